"""Supervision URLs (namespace metrics, under /supervision/)."""

from django.urls import path

from metrics.supervision import views

urlpatterns = [
    path("", views.supervision, name="supervision"),
    path("remind/", views.remind, name="remind"),
]
