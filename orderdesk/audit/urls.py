from django.urls import path

from orderdesk.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.apicall_list, name="list"),
    path("<int:pk>/", views.apicall_detail, name="detail"),
]
