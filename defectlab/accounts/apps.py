from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "defectlab.accounts"
    label = "accounts"
    verbose_name = "Accounts"
