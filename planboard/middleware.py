from django.conf import settings
from django.utils import translation


class LanguageMiddleware:
    """Activate the language the user chose (set_language cookie), else the site default.

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language header: the
    district's staff use browsers set to English as often as to Chinese, and the UI must be
    Chinese unless someone asks for English.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
