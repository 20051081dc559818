from django.urls import path

from orderdesk.orders import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("new/", views.order_new, name="new"),
    path("attention/", views.attention_list, name="attention"),
]
