"""The retail source's generator: deterministic daily drops with deliberate dirt
(:mod:`~examples.retail.generator.source`, documents in
:mod:`~examples.retail.generator.documents`)."""
