"""The generative side: conditional DCGANs, GAN training, sampling (synth), FID/KID scoring."""
