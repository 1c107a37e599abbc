"""`{% label obj lang %}`: the label of a dataset, field, code list or code in the page language."""

from django import template

register = template.Library()


@register.simple_tag
def label(obj, lang: str) -> str:
    return obj.label_in(lang)
