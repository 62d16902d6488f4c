from django.urls import path

from . import views, views_audit, views_members

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
]
