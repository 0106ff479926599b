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
#: The mean training image the project's notebooks subtract from every image (the grader no
#: longer reads it: it computes the mean itself, see MEAN_IMAGE_TRAINING).
MEAN_IMAGE_VARIABLE = "mean_image"
#: Where the grader looks for each notebook's trained model, first found first: the project's
#: names, then what the course's real 2021-23 notebooks leave (ConvolutionalNetworks trains
#: ``model`` with a ``solver``). Only the model's parameters are read; the grader runs them
#: through the reference forward pass of :data:`MODEL_CLASSES`.
MODEL_VARIABLES = {
    "FullyConnectedNets": (BEST_MODEL_VARIABLE,),
    "ConvolutionalNetworks": (ONE_EPOCH_MODEL_VARIABLE, "model", "solver.model"),
}
#: The architecture each notebook's model has (a class path inside the package).
MODEL_CLASSES = {
    "FullyConnectedNets": "classifiers.fc_net.FullyConnectedNet",
    "ConvolutionalNetworks": "classifiers.cnn.ThreeLayerConvNet",
}
#: The grader subtracts from its held-out images the mean of this many training images of the
#: embedded dataset (seed 0): what ``get_CIFAR10_data()`` subtracts with its defaults, as the
#: real notebooks call it. The project's notebooks use fewer (4000, 6000); the means differ by
#: well under one grey level, which moves no accuracy measurably.
MEAN_IMAGE_TRAINING = 49000
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
#: (``python -m grader.notebooks.calibration``) on the embedded dataset (version 2), the
#: trained parameters run through the reference forward pass; rerun it and update these
#: whenever the notebooks or the dataset change. A new held-out secret moves them by sampling
#: noise only (about 1.5 points on 1000 images).
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
