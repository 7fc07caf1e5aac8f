"""Inbox URLs (namespace metrics, under /inbox/)."""

from django.urls import path

from metrics.inbox import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
]
