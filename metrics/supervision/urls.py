"""Supervision URLs (namespace metrics, under /supervision/)."""

from django.urls import path

from metrics.supervision import views

urlpatterns = [
    path("", views.supervision, name="supervision"),
    path("remind/", views.remind, name="remind"),
    path("orders/", views.orders, name="orders"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/replies/<int:pk>/file/", views.order_reply_file, name="order_reply_file"),
    path("interviews/<int:pk>/", views.interview_detail, name="interview_detail"),
]
