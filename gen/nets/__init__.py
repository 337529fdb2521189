"""GAN networks: one DCGAN family at 32, 64 and 128 px (conditional or unconditional), and a projected D."""
from gen.nets.dcgan_base import (CONDS, D_ARCHS, RESOLUTIONS, DCGANDiscriminator, DCGANGenerator, build_discriminator,
                                 build_generator)

__all__ = ["CONDS", "D_ARCHS", "RESOLUTIONS", "DCGANGenerator", "DCGANDiscriminator", "build_generator",
           "build_discriminator"]
