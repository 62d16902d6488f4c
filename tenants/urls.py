from django.urls import path

from . import views, views_audit, views_members, views_networking, views_platform

urlpatterns = [
    path("", views.home, name="home"),
    path("t/<slug:slug>/members/", views_members.member_list, name="member_list"),
    path("t/<slug:slug>/members/add/", views_members.member_add, name="member_add"),
    path("t/<slug:slug>/members/invite/", views_members.member_invite, name="member_invite"),
    path(
        "t/<slug:slug>/members/<str:username>/role/", views_members.member_role, name="member_role"
    ),
    path(
        "t/<slug:slug>/members/<str:username>/remove/",
        views_members.member_remove,
        name="member_remove",
    ),
    path("invite/<str:token>/", views_members.invitation, name="invitation"),
    path("t/<slug:slug>/audit/", views_audit.audit_log, name="audit_log"),
    path("t/<slug:slug>/audit/export.<str:fmt>", views_audit.audit_export, name="audit_export"),
    path("platform/tenants/", views_platform.tenant_list, name="platform_tenant_list"),
    path("platform/tenants/new/", views_platform.tenant_create, name="platform_tenant_new"),
    path("platform/tenants/<slug:slug>/", views_platform.tenant_edit, name="platform_tenant_edit"),
    path(
        "platform/tenants/<slug:slug>/suspend/",
        views_platform.tenant_suspend,
        name="platform_tenant_suspend",
    ),
    path(
        "platform/tenants/<slug:slug>/reactivate/",
        views_platform.tenant_reactivate,
        name="platform_tenant_reactivate",
    ),
    path(
        "platform/tenants/<slug:slug>/networking/",
        views_networking.tenant_networking,
        name="tenant_networking",
    ),
    path(
        "platform/tenants/<slug:slug>/networking/create/",
        views_networking.tenant_networking_create,
        name="tenant_networking_create",
    ),
    path(
        "platform/tenants/<slug:slug>/networking/delete/",
        views_networking.tenant_networking_delete,
        name="tenant_networking_delete",
    ),
    path(
        "platform/tenants/<slug:slug>/networking/runs/<int:number>/",
        views_networking.tenant_networking_run,
        name="tenant_networking_run",
    ),
]
