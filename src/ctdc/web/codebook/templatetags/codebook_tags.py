"""`{% label obj lang %}` and `{% describe obj lang %}`: labels and descriptions in the page language."""

from django import template

register = template.Library()


@register.simple_tag
def label(obj, lang: str) -> str:
    return obj.label_in(lang)


@register.simple_tag
def describe(obj, lang: str) -> str:
    return obj.description_in(lang)
