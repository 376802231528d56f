from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from chat.broadcasts import user_sockets_check

from .forms import SignupForm
from .ratelimits import login_allowed, login_failure_count, signup_allowed


@require_http_methods(["GET", "POST"])
def signup(request):
    """Create an account and log it in, then go to `?next=` (if safe) or the room index.

    At most settings.ACCOUNTS_SIGNUP_RATE_LIMITS accounts per client address: past that the form
    says so, with status 429, and nothing is created."""
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if not signup_allowed(request):
            form.add_error(None, "Too many accounts were made from your address: try again later.")
            status = 429
        else:
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
    return render(request, "accounts/signup.html", context, status=status)


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
    """Django's log-in page; a signed-in reader goes straight on.

    django-axes locks a username at one address after AXES_FAILURE_LIMIT failures; this view
    also refuses (429) every log-in from an address that failed settings.
    ACCOUNTS_LOGIN_FAILURE_RATE_LIMITS times, whatever the usernames (password spraying)."""

    redirect_authenticated_user = True
    extra_context = {"heading": "Log in", "action": reverse_lazy("accounts:login")}

    def post(self, request, *args, **kwargs):
        if not login_allowed(request):
            return render(request, "accounts/locked_out.html", {"address_locked": True}, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.has_error(NON_FIELD_ERRORS, "invalid_login"):  # a username and password were tried
            login_failure_count(self.request)
        return super().form_invalid(form)
