from django.urls import path

from . import views, views_audit

urlpatterns = [
    path("", views.home, name="home"),
    path("t/<slug:slug>/audit/", views_audit.audit_log, name="audit_log"),
    path("t/<slug:slug>/audit/export.<str:fmt>", views_audit.audit_export, name="audit_export"),
]
