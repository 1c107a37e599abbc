"""`{% used_in release %}`: the publications citing a release, for any page that shows one."""

from django import template

from ctdc.web.portal.models import ReleaseUse

register = template.Library()


@register.inclusion_tag("portal/_used_in.html")
def used_in(release):
    return {"uses": list(ReleaseUse.objects.filter(dataset=release.dataset, version=release.version))}
