from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from chat.broadcasts import user_sockets_check

from .forms import ProfileForm, SignupForm
from .models import Profile, time_zone_names
from .profiles import profile_for
from .ratelimits import login_allowed, login_failure_count, signup_allowed


def form_page(heading: str, button: str, url_name: str) -> dict:
    """What accounts/auth_form.html draws a one-form page from: its heading, its button's label
    and the name of the URL its form posts to."""
    return {"heading": heading, "button": button, "action": reverse_lazy(url_name)}


@require_http_methods(["GET", "POST"])
def signup(request):
    """Create an account and log it in, then go to `?next=` (if safe) or the room index.

    At most settings.ACCOUNTS_SIGNUP_RATE_LIMITS accounts per client address: past that the form
    says so, with status 429, and nothing is created."""
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if not signup_allowed(request):
            form.add_error(None, _("Too many accounts were made from your address: try again later."))
            status = 429
        else:
            user = form.save()
            login(request, user, backend="accounts.backends.ProfileModelBackend")
            next_url = request.POST.get("next") or request.GET.get("next", "")
            if url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return redirect(next_url)
            return redirect(settings.LOGIN_REDIRECT_URL)
    context = {
        "form": form,
        "next": request.GET.get("next", ""),
        "heading": _("Sign up"),
        "action": reverse("accounts:signup"),
    }
    return render(request, "accounts/signup.html", context, status=status)


class LogoutView(auth_views.LogoutView):
    """Django's log-out (POST); then this session's open sockets close (code 4001). A GET asks
    first ("Log out of Tertulia?", a button that POSTs here), so that a link or a prefetch never
    logs anyone out; a reader already logged out goes to the log-in page.

    The check is sent after Django has flushed the session: its `user_logged_out` signal comes
    before the flush, when the session would still look valid.
    """

    http_method_names = ["get", "post", "options"]
    template_name = "accounts/logout_confirm.html"

    def get(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(settings.LOGIN_URL)
        context = {
            **form_page(_("Log out of Tertulia?"), _("Log out"), "accounts:logout"),
            "next": self.get_redirect_url(),  # only if safe, as the POST checks again
        }
        return render(request, self.template_name, context)

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
    extra_context = {"heading": _("Log in"), "action": reverse_lazy("accounts:login")}

    def post(self, request, *args, **kwargs):
        if not login_allowed(request):
            return render(request, "accounts/locked_out.html", {"address_locked": True}, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.has_error(NON_FIELD_ERRORS, "invalid_login"):  # a username and password were tried
            login_failure_count(self.request)
        return super().form_invalid(form)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (old password, new one twice), for a signed-in reader.

    Saving the user ends their other sessions (Django's get_user no longer accepts the old
    password's hash) and, through chat/signals.py, their sockets; this session stays logged in
    under a new key (Django's update_session_auth_hash), so its own open sockets, which hold
    the old key, close too."""

    template_name = "accounts/auth_form.html"
    success_url = reverse_lazy("accounts:password_change_done")
    extra_context = form_page(_("Change your password"), _("Change password"), "accounts:password_change")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's "forgot your password": an email address in, one link by email to each active
    account with that address and a usable password. The reply is the same whether or not an
    account has it (no one learns who signed up with what), and a failure to send is logged,
    not shown (Django's PasswordResetForm)."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    extra_context = form_page(_("Forgot your password?"), _("Send me a link"), "accounts:password_reset")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The emailed link: a form for the new password, or a page saying the link does not work
    (used, too old — settings.PASSWORD_RESET_TIMEOUT — or the password changed since). Setting
    it ends every session of the user and their sockets (chat/signals.py), and logs no one in."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["heading"] = _("Set a new password") if self.validlink else _("This link does not work")
        context["button"] = _("Set password")
        return context


def notice(view_class, template_name: str, heading: str):
    """One of Django's password pages that only tell what happened (changed, link sent, set), as
    a view drawn by `template_name` under `heading`."""
    return view_class.as_view(template_name=template_name, extra_context={"heading": heading})


password_change_done = notice(
    auth_views.PasswordChangeDoneView, "accounts/password_change_done.html", _("Password changed")
)
password_reset_done = notice(
    auth_views.PasswordResetDoneView, "accounts/password_reset_done.html", _("Check your email")
)
password_reset_complete = notice(
    auth_views.PasswordResetCompleteView, "accounts/password_reset_complete.html", _("Password set")
)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """The signed-in user's profile: display name, language and time zone (ProfileForm). The page
    names the time zone in effect now (the saved one, else the site's) and the time there, so
    that a new user can confirm it. A valid POST saves, says so and redirects here (POST,
    redirect, GET); it also sets Django's language cookie (or deletes it for "your browser's
    language"), so the choice holds on the log-in page after logging out."""
    saved = profile_for(request.user)
    # Read before the form puts what was posted on `saved`; a saved zone this machine lacks is not in effect.
    zone_saved = saved.time_zone != "" and saved.time_zone == timezone.get_current_timezone_name()
    form = ProfileForm(request.POST or None, instance=saved)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile is saved."))
        response = redirect("accounts:profile")
        language_cookie_set(response, saved.language)
        return response
    context = {
        "form": form,
        "heading": _("Your profile"),
        "button": _("Save"),
        "action": reverse("accounts:profile"),
        "time_zone_in_effect": timezone.get_current_timezone_name(),
        "time_zone_saved": zone_saved,
        "now": timezone.now(),
        "time_zones": time_zone_names(),
    }
    return render(request, "accounts/profile.html", context)


def language_cookie_set(response, language: str) -> None:
    """Set Django's language cookie on `response` to `language` (a code of settings.LANGUAGES), as
    Django's set_language view does, or delete it when `language` is "" (follow the browser)."""
    if not language:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@require_POST
def language_set(request):
    """The top bar's language switcher: Django's `set_language` (POST `language`, a code of
    settings.LANGUAGES, and `next`, a safe URL to go back to; it sets the language cookie), and
    for a signed-in user the choice saved as their profile's language too, which
    accounts.middleware applies before the cookie. An unknown language changes nothing."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        Profile.objects.update_or_create(user=request.user, defaults={"language": language})
    return response
