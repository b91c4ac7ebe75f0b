"""The one-batch overfitting loop shared by the model tests."""

from __future__ import annotations

import torch

from ftlab.models import classification_loss


def overfit_losses(model: torch.nn.Module, batch, optimizer: torch.optim.Optimizer,
                   steps: int, stop_below: float = 0.05) -> list[float]:
    """Train on one batch until the mean loss drops below ``stop_below``; the losses seen."""
    model.train()
    losses: list[float] = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = classification_loss(model(batch), batch.labels, reduction="mean")
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if loss.item() < stop_below:
            break
    return losses
