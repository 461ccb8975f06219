"""Training: the one loop every model uses (``loop``) and the command line that runs each
model's recipe (``python -m common.train MODEL ...``, in ``__main__``)."""

from .loop import (CHECKPOINT, CheckpointError, History, LossFn, TrainConfig, TrainingDiverged,
                   TrainingInterrupted, batch_indices,
                   learning_rate, read_history, save_history, train)

__all__ = ["CHECKPOINT", "CheckpointError", "History", "LossFn", "TrainConfig", "TrainingDiverged", "TrainingInterrupted",
           "batch_indices", "learning_rate", "read_history", "save_history", "train"]
