from django.contrib.auth import views as auth_views

from orderdesk.accounts.forms import ThrottledAuthenticationForm

login = auth_views.LoginView.as_view(
    form_class=ThrottledAuthenticationForm,
    template_name="accounts/login.html",
    redirect_authenticated_user=True,
)
logout = auth_views.LogoutView.as_view()
