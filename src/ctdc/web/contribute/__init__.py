"""The public "Contribute data" pages, for organisations considering joining: what the standard asks, the templates
and codebook, a template data-sharing agreement, what happens to their data, and the steps to a first release."""
