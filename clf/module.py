"""The LightningModule: stages (freezing + optimizer per stage), timm warmup+cosine, losses, mixup, metrics."""
from __future__ import annotations

import time

import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn.functional as F

from augment.labels import LabelMap
from clf.freeze import Stage, apply_trainable, hold_frozen_norms, param_groups, stage_at, trainable_names
from clf.losses import classification_loss, soft_targets
from clf.metrics import compute_metrics


class ClassifierModule(pl.LightningModule):
    """Trains a timm model through its stages; records one history row per epoch (rank 0 writes it out)."""

    def __init__(self, model: torch.nn.Module, label_map: LabelMap, opts, stages: list[Stage],
                 class_weight: torch.Tensor | None = None, meta: dict | None = None, on_epoch_end=None,
                 ddp: bool = False):
        super().__init__()
        self.model = model
        self.label_map = label_map
        self.opts = opts
        self.stages = stages
        self.meta = meta or {}
        self.on_epoch_end_fn = on_epoch_end  # callback(history) on rank 0: metrics.csv, console line
        self.ddp = ddp
        self.register_buffer("class_weight", class_weight if class_weight is not None else torch.ones(0),
                             persistent=False)
        self.mixup = None
        if opts.mixup > 0 or opts.cutmix > 0:
            from timm.data import Mixup

            self.mixup = Mixup(mixup_alpha=opts.mixup, cutmix_alpha=opts.cutmix, label_smoothing=opts.label_smoothing,
                               num_classes=label_map.num_classes)
        self.history: list[dict] = []
        self.stage: Stage | None = None
        self.sched = None
        self._ckpt_epoch: int | None = None
        self._reset_epoch_stats()

    # Stages, optimizers and the schedule.
    def forward(self, x):
        return self.model(x)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode:
            hold_frozen_norms(self.model)
        return self

    def configure_optimizers(self):
        from timm.optim import create_optimizer_v2
        from timm.scheduler import create_scheduler_v2

        epoch = self._ckpt_epoch if self._ckpt_epoch is not None else self.current_epoch
        st = self.stage = stage_at(self.stages, epoch)
        names = trainable_names(self.model, st.trainable)
        apply_trainable(self.model, names, set_requires_grad=not self.ddp)
        if self.model.training:
            hold_frozen_norms(self.model)
        kw = {"momentum": self.opts.momentum} if st.opt in ("sgd", "rmsprop") else {}
        opt = create_optimizer_v2(param_groups(self.model, names, self.opts.weight_decay), opt=st.opt, lr=st.lr,
                                  weight_decay=self.opts.weight_decay, **kw)
        n = st.end - st.start
        warm = min(self.opts.warmup_epochs, n - 1) if st.start == 0 else 0  # warm up the first stage only
        self.sched, _ = create_scheduler_v2(opt, sched="cosine", num_epochs=n, warmup_epochs=warm,
                                            warmup_lr=self.opts.warmup_lr, min_lr=min(self.opts.min_lr, st.lr),
                                            cooldown_epochs=0)
        return opt

    def on_train_epoch_start(self):
        epoch = self.current_epoch
        self._ckpt_epoch = None
        if stage_at(self.stages, epoch) != self.stage:  # a new stage: new trainable parts and optimizer
            self.trainer.strategy.setup_optimizers(self.trainer)
        self.sched.step(epoch - self.stage.start)
        self.model.train()
        hold_frozen_norms(self.model)
        self._reset_epoch_stats()

    def loss_kind(self) -> str:
        o = self.opts
        return o.switch_loss if o.switch_loss and o.switch_epoch is not None and self.current_epoch >= o.switch_epoch \
            else o.loss

    # Steps.
    def training_step(self, batch, batch_idx):
        x, y, *rest = batch  # a third item: per-image loss weights (--synth-weight)
        if self.mixup is not None and len(x) % 2 == 0:
            x, t = self.mixup(x, y)
        else:
            t = soft_targets(y, self.label_map.num_classes, self.opts.label_smoothing)
        logits = self.model(x)
        w = self.class_weight if self.class_weight.numel() else None
        loss = classification_loss(logits, t, self.loss_kind(), w, self.opts.focal_gamma,
                                   sample_weight=rest[0] if rest else None)
        self._tr["loss"] += loss.detach().float() * len(y)
        self._tr["correct"] += (logits.detach().argmax(1) == y).sum().float()
        self._tr["n"] += len(y)
        # logger=False: the progress bar's; TensorBoard gets the epoch rows (one x axis, the epoch, for every curve)
        self.log("loss", loss.detach(), prog_bar=True, on_step=True, on_epoch=False, logger=False)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self.model(x).float()
        self._val_probs.append(logits.softmax(1))
        self._val_y.append(y)
        self._val_loss.append(F.cross_entropy(logits, y, reduction="sum"))

    def on_validation_epoch_start(self):
        self._val_probs, self._val_y, self._val_loss = [], [], []

    def on_validation_epoch_end(self):
        probs, y = torch.cat(self._val_probs), torch.cat(self._val_y)
        loss = torch.stack(self._val_loss).sum()
        if self.trainer.world_size > 1:  # DistributedSampler pads ranks equally; a few images may count twice
            probs = self.all_gather(probs).flatten(0, 1)
            y = self.all_gather(y).flatten(0, 1)
            loss = self.all_gather(loss).sum()
        m = compute_metrics(y.cpu().numpy(), probs.cpu().numpy().astype(np.float64), self.label_map)
        self._val = {"val_loss": float(loss) / max(len(y), 1), **{f"val_{k}": m[k] for k in
                                                                  ("acc", "macro_f1", "micro_f1", "hier_acc")}}
        for k, v in self._val.items():
            self.log(k, v, prog_bar=k in ("val_acc", f"val_{self.opts.select}"), sync_dist=False, logger=False)

    def on_train_epoch_end(self):
        tr = {k: self.trainer.strategy.reduce(v.clone(), reduce_op="sum") for k, v in self._tr.items()}
        n = max(float(tr["n"]), 1.0)
        row = {"epoch": self.current_epoch, "stage": self.stages.index(self.stage), "trainable": self.stage.trainable,
               "opt": self.stage.opt, "lr": self.trainer.optimizers[0].param_groups[0]["lr"],
               "loss_fn": self.loss_kind(), "train_loss": float(tr["loss"]) / n, "train_acc": float(tr["correct"]) / n,
               "train_images": int(n),  # summed over DDP ranks: each saw its own share of the split
               **getattr(self, "_val", {}), "time_s": round(time.time() - self._t0, 2)}
        self.history.append(row)
        if self.trainer.is_global_zero and self.on_epoch_end_fn is not None:
            self.on_epoch_end_fn(self.history)
        if self.trainer.is_global_zero and self.logger is not None:
            from clf.curves import epoch_curves

            self.logger.log_metrics(epoch_curves(row), step=self.current_epoch)

    def _reset_epoch_stats(self):
        self._tr = {k: torch.zeros((), device=self.device) for k in ("loss", "correct", "n")}
        self._t0 = time.time()

    # Self-describing checkpoints.
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        from common.seeding import get_rng_state, rng_to_safe

        checkpoint["synthmix"] = {**self.meta, "history": self.history, "rng": rng_to_safe(get_rng_state()),
                                  "stage": self.stages.index(self.stage) if self.stage else 0}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        from common.seeding import rng_from_safe, set_rng_state

        sm = checkpoint.get("synthmix", {})
        self.history = list(sm.get("history", []))
        self._ckpt_epoch = int(checkpoint.get("epoch", 0))
        if "rng" in sm:
            set_rng_state(rng_from_safe(sm["rng"]))


class EpochAugmentSeed(pl.Callback):
    """Reseed the in-process augmentation at every epoch from (seed, epoch), so a resumed epoch augments as the
    uninterrupted run did (albumentations keeps a generator of its own, which no checkpoint holds)."""

    def __init__(self, transform, seed: int):
        self.transform, self.seed = transform, seed

    def on_train_epoch_start(self, trainer, pl_module):
        self.transform.set_random_seed((self.seed * 1_000_003 + trainer.current_epoch) % 2**32)
