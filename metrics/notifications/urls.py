"""Notification URLs (namespace metrics, under /notifications/)."""

from django.urls import path

from metrics.notifications import views

urlpatterns = [
    path("deliveries/", views.deliveries, name="deliveries"),
]
