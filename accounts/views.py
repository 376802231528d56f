from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from chat.broadcasts import user_sockets_check

from .forms import SignupForm


@require_http_methods(["GET", "POST"])
def signup(request):
    """Create an account and log it in, then go to `?next=` (if safe) or the room index."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        next_url = request.POST.get("next") or request.GET.get("next", "")
        if url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(next_url)
        return redirect(settings.LOGIN_REDIRECT_URL)
    context = {
        "form": form,
        "next": request.GET.get("next", ""),
        "heading": "Sign up",
        "action": reverse("accounts:signup"),
    }
    return render(request, "accounts/signup.html", context)


class LogoutView(auth_views.LogoutView):
    """Django's log-out (POST); then this session's open sockets close (code 4001).

    The check is sent after Django has flushed the session: its `user_logged_out` signal comes
    before the flush, when the session would still look valid.
    """

    def post(self, request, *args, **kwargs):
        user_id = request.user.pk
        response = super().post(request, *args, **kwargs)
        if user_id is not None:
            user_sockets_check(user_id=user_id)
        return response


class LoginView(auth_views.LoginView):
    """Django's log-in page; a signed-in reader goes straight on."""

    redirect_authenticated_user = True
    extra_context = {"heading": "Log in", "action": reverse_lazy("accounts:login")}
