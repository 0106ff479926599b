"""The training tasks of the assignment: which model, which Solver settings, how many images, and
the accuracy each must reach.
"""

from __future__ import annotations

from grader.checks.training import Task

FC_CLASS = "classifiers.fc_net.FullyConnectedNet"
CNN_CLASS = "classifiers.cnn.ThreeLayerConvNet"

# Thresholds: the reference's accuracy with model seeds 0, 1 and 2 (measured with
# ``nngrade calibrate``) was 1.0/1.0/1.0 for both overfitting tasks, 0.37/0.39/0.36 for fc_train
# and 0.48/0.54/0.44 for cnn_train (chance is 0.10). Each threshold sits about 10 points below the
# worst of those, so a correct model with another initialisation order passes and a model that
# does not learn fails.
#: The rubric item each task earns.
TRAINING_ITEMS = {
    "fc_overfit": "fc_net.FullyConnectedNet overfits 50 images",
    "fc_train": "fc_net.FullyConnectedNet trains to the accuracy threshold",
    "cnn_overfit": "cnn.ThreeLayerConvNet overfits a small set",
    "cnn_train": "cnn.ThreeLayerConvNet trains to the accuracy threshold",
}

TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task(
            "fc_overfit",
            FC_CLASS,
            {"hidden_dims": [100, 100], "weight_scale": 1e-2, "dtype": "float32"},
            {"update_rule": "sgd", "optim_config": {"learning_rate": 1e-2}, "num_epochs": 20,
             "batch_size": 25},
            num_train=50, num_val=50, num_heldout=0, measure="train",
            threshold=0.9, reference_accuracy=1.0,
        ),
        Task(
            "fc_train",
            FC_CLASS,
            {"hidden_dims": [100, 100], "weight_scale": 5e-2, "dtype": "float32",
             "normalization": "batchnorm"},
            {"update_rule": "adam", "optim_config": {"learning_rate": 1e-3}, "num_epochs": 6,
             "batch_size": 100},
            num_train=5000, num_val=200, num_heldout=1000, measure="heldout",
            threshold=0.25, reference_accuracy=0.37,
        ),
        Task(
            "cnn_overfit",
            CNN_CLASS,
            {"weight_scale": 1e-2, "dtype": "float32"},
            {"update_rule": "adam", "optim_config": {"learning_rate": 1e-3}, "num_epochs": 15,
             "batch_size": 50},
            num_train=50, num_val=50, num_heldout=0, measure="train",
            threshold=0.9, reference_accuracy=1.0,
        ),
        Task(
            "cnn_train",
            CNN_CLASS,
            {"weight_scale": 1e-2, "dtype": "float32"},
            {"update_rule": "adam", "optim_config": {"learning_rate": 2e-4}, "num_epochs": 1,
             "batch_size": 25},
            num_train=6000, num_val=200, num_heldout=1000, measure="heldout",
            threshold=0.30, reference_accuracy=0.48,
        ),
    )
}  # fmt: skip
