"""OPTIONS responses: what a client may send to this URL (the `Allow` header and `data.methods`).

DRF's default metadata describes the view's serializer as if it were the request body of every
write; our views parse requests with separate input serializers, so that description would be
wrong. The methods are the ones the view implements; the role check happens on the real request.
"""

from __future__ import annotations

from rest_framework.metadata import BaseMetadata


class MethodsMetadata(BaseMetadata):
    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "methods": [m for m in view.allowed_methods if m != "OPTIONS"] + ["OPTIONS"],
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
