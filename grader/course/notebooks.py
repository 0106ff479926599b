"""The assignment's notebooks: their order, answer slugs, and the models two of them leave.

The engine (grader/notebooks/) builds, runs and scores them; what it scores is declared here.
"""

from grader.spec import NotebookModel

#: The notebooks, in the order students work through them.
NOTEBOOKS = (
    "FullyConnectedNets",
    "BatchNormalization",
    "Dropout",
    "ConvolutionalNetworks",
    "PyTorch",
    "Network_Visualization",
)
#: The notebooks that need torch (the optional extra).
TORCH_NOTEBOOKS = ("PyTorch", "Network_Visualization")
#: The notebooks a grading runs and scores: the numpy part. The torch notebooks are built and
#: released but join the grading together with the torch checks (issues 11 and 12).
GRADED_NOTEBOOKS = tuple(name for name in NOTEBOOKS if name not in TORCH_NOTEBOOKS)

#: The short name each notebook's answer markers start with.
SLUGS = {
    "FullyConnectedNets": "fc-nets",
    "BatchNormalization": "batchnorm",
    "Dropout": "dropout",
    "ConvolutionalNetworks": "convnets",
    "PyTorch": "pytorch",
    "Network_Visualization": "netvis",
}

#: The trained FullyConnectedNet the FullyConnectedNets notebook leaves for the grader.
BEST_MODEL_VARIABLE = "best_model"
#: The ThreeLayerConvNet trained for one epoch that the ConvolutionalNetworks notebook leaves.
ONE_EPOCH_MODEL_VARIABLE = "one_epoch_model"
#: The mean training image both of those notebooks subtract from every image before the model
#: sees it; the grader subtracts it from its held-out images before asking for scores.
MEAN_IMAGE_VARIABLE = "mean_image"
#: Variables each notebook must leave defined after a complete run, for the grader.
RESULT_VARIABLES = {
    "FullyConnectedNets": (BEST_MODEL_VARIABLE, MEAN_IMAGE_VARIABLE),
    "BatchNormalization": (),
    "Dropout": (),
    "ConvolutionalNetworks": (ONE_EPOCH_MODEL_VARIABLE, MEAN_IMAGE_VARIABLE),
    "PyTorch": (BEST_MODEL_VARIABLE, "channel_mean", "channel_std"),
    "Network_Visualization": (),
}

#: The alias the notebooks import the student package under, whatever its folder is called.
PACKAGE_ALIAS = "a2"

#: Measured with :func:`grader.notebooks.calibration.calibrate`
#: (``python -m grader.notebooks.calibration``) on the embedded dataset (version 2) with the
#: default held-out seed; rerun it and update these whenever the notebooks, the dataset or the
#: held-out seed change.
FC_REFERENCE_ACCURACY = 0.233
#: The notebook's one-epoch run (6000 images, weight_scale 1e-2, Adam 2e-4, batch 25: the
#: settings of the training check ``cnn_train``). Other model seeds moved the training check's
#: accuracy by about five points either way, hence the ten-point margin of the thresholds.
CNN_REFERENCE_ACCURACY = 0.472

#: The models scored on held-out images, one per notebook that leaves one.
MODELS = (
    NotebookModel(
        "FullyConnectedNets",
        BEST_MODEL_VARIABLE,
        "notebook.FullyConnectedNets best_model reaches the accuracy threshold",
        FC_REFERENCE_ACCURACY,
    ),
    NotebookModel(
        "ConvolutionalNetworks",
        ONE_EPOCH_MODEL_VARIABLE,
        "notebook.ConvolutionalNetworks one-epoch model reaches the accuracy threshold",
        CNN_REFERENCE_ACCURACY,
    ),
)
