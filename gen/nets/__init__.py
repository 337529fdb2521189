"""GAN networks: one DCGAN family at 32, 64 and 128 px (conditional or unconditional)."""
from gen.nets.dcgan_base import RESOLUTIONS, DCGANDiscriminator, DCGANGenerator, build_discriminator, build_generator

__all__ = ["RESOLUTIONS", "DCGANGenerator", "DCGANDiscriminator", "build_generator", "build_discriminator"]
