from django.contrib.auth.forms import UserCreationForm


class SignupForm(UserCreationForm):
    """Django's sign-up form (username, password1, password2); kept as its own class to extend."""
