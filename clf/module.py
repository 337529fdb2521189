"""The LightningModule: stages (freezing + optimizer per stage), timm warmup+cosine, losses, mixup, metrics."""
from __future__ import annotations

import time

import lightning.pytorch as pl
import numpy as np
import torch
import torch.nn.functional as F

from augment.labels import LabelMap
from clf.freeze import Stage, apply_trainable, hold_frozen_norms, param_groups, stage_at, trainable_names
from clf.losses import (classification_loss, cmo_paste, effective_number_weights, ldam_margins, log_prior, logit_shift,
                        soft_targets)
from clf.metrics import compute_metrics


class ClassifierModule(pl.LightningModule):
    """Trains a timm model through its stages; records one history row per epoch (rank 0 writes it out)."""

    def __init__(self, model: torch.nn.Module, label_map: LabelMap, opts, stages: list[Stage],
                 class_weight: torch.Tensor | None = None, meta: dict | None = None, on_epoch_end=None,
                 ddp: bool = False, counts=None, minority=None):
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
        # The long-tail terms, from the training split's class counts (real + synthetic: the prior the model sees).
        counts = counts if counts is not None else [1] * label_map.num_classes
        self.register_buffer("log_prior", log_prior(counts), persistent=False)
        self.register_buffer("margins", opts.ldam_scale * ldam_margins(counts, opts.ldam_margin), persistent=False)
        self.register_buffer("drw_weight", effective_number_weights(counts, opts.drw_beta), persistent=False)
        self.minority = minority  # CMO: epoch -> endless iterator of minority-sampled batches
        self._minority = self._cmo_rng = None
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
        if self.minority is not None:  # seeded by (seed, epoch): a resumed epoch pastes what the unbroken run did
            self._minority = self.minority(epoch)
            self._cmo_rng = np.random.default_rng([self.opts.seed, epoch, self.global_rank])

    def loss_kind(self) -> str:
        o = self.opts
        return o.switch_loss if o.switch_loss and o.switch_epoch is not None and self.current_epoch >= o.switch_epoch \
            else o.loss

    def loss_weight(self) -> torch.Tensor | None:
        """The class weights of this epoch: DRW's from --drw-epoch on, else --class-weighted's, else none."""
        if self.opts.drw_epoch is not None and self.current_epoch >= self.opts.drw_epoch:
            return self.drw_weight
        return self.class_weight if self.class_weight.numel() else None

    def loss_of(self, logits: torch.Tensor, t: torch.Tensor, sample_weight=None) -> torch.Tensor:
        """This epoch's loss of `logits` against soft targets `t`."""
        kind = self.loss_kind()
        tau = self.opts.la_tau if kind == "logit_adjusted" else 1.0
        shift = logit_shift(kind, t, tau * self.log_prior, self.margins)
        return classification_loss(logits, t, kind, self.loss_weight(), self.opts.focal_gamma,
                                   sample_weight=sample_weight, shift=shift)

    # Steps.
    def training_step(self, batch, batch_idx):
        x, y, *rest = batch  # a third item: per-image loss weights (--synth-weight)
        n_cls, smooth = self.label_map.num_classes, self.opts.label_smoothing
        own = None  # CMO: the share of each image still its own
        if self._minority is not None and self._cmo_rng.random() < self.opts.cmo:
            x2, y2 = next(self._minority)[:2]
            x, own = cmo_paste(x, x2.to(x.device), self._cmo_rng)
            t2 = soft_targets(y2[: len(y)].to(y.device), n_cls, smooth)
        if self.mixup is not None and len(x) % 2 == 0:
            x, t = self.mixup(x, y)
        else:
            t = soft_targets(y, n_cls, smooth)
        logits = self.model(x)
        loss = self.loss_of(logits, t, rest[0] if rest else None)
        if own is not None:  # the reference's lam * loss(own label) + (1 - lam) * loss(pasted label)
            loss = own * loss + (1.0 - own) * self.loss_of(logits, t2, rest[0] if rest else None)
        self._tr["loss"] += loss.detach().float() * len(y)
        self._tr["correct"] += (logits.detach().argmax(1) == y).sum().float()
        self._tr["n"] += len(y)
        # logger=False: the progress bar's; TensorBoard gets the epoch rows (one x axis, the epoch, for every curve)
        self.log("loss", loss.detach(), prog_bar=True, on_step=True, on_epoch=False, logger=False)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self.model(x).float()
        if self.opts.posthoc_la > 0:  # best.pt is chosen on the predictions the run will make
            logits = logits - self.opts.posthoc_la * self.log_prior
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
