"""The stages of the city-scale generator, one mixin of `app.scale.context.Context` per domain."""
