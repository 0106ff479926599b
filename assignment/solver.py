"""The Solver: trains a classification model with minibatch stochastic gradient descent.

Given to students complete. A Solver takes a model, a dataset and training options, runs the
update rules of ``optim.py`` on minibatches, and keeps the loss and accuracy histories::

    data = {"X_train": ..., "y_train": ..., "X_val": ..., "y_val": ...}
    model = FullyConnectedNet([100], reg=1e-3)
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, num_epochs=10, batch_size=100, print_every=100)
    solver.train()

At the end of ``train()`` the model holds the parameters that scored best on the validation set,
and ``solver.loss_history``, ``solver.train_acc_history`` and ``solver.val_acc_history`` hold the
figures to plot.

The model must have:
- ``model.params``: dict from parameter names to arrays
- ``model.loss(X, y)``: returns ``(loss, grads)`` in training mode, grads keyed like params, and
  ``model.loss(X)``: returns the scores, of shape (N, C), in test mode

Minibatches and accuracy subsamples are drawn from numpy's global random state, so a run is
reproducible after ``np.random.seed``.
"""

import pickle

import numpy as np

from . import optim

# The update rules a Solver accepts by name; each is looked up in optim.py when the Solver is
# built, so it uses whatever optim.py the package holds.
UPDATE_RULES = ("sgd", "sgd_momentum", "rmsprop", "adam")


class Solver:
    """Trains a classification model; see the module docstring for an example.

    Required arguments:
    - model: an object with ``params`` and ``loss`` as the module docstring describes
    - data: dict with the training and validation data:
      - X_train: array of shape (N_train, d_1, ..., d_k) of training inputs
      - y_train: array of shape (N_train,) of training labels
      - X_val: array of shape (N_val, d_1, ..., d_k) of validation inputs
      - y_val: array of shape (N_val,) of validation labels

    Optional keyword arguments:
    - update_rule: name of an update rule in optim.py, one of 'sgd', 'sgd_momentum', 'rmsprop'
      and 'adam' (default 'sgd'); a function with the same interface is accepted as well
    - optim_config: dict of hyperparameters for the update rule, such as learning_rate; every
      parameter array gets its own copy, since the rule keeps per-parameter state in it
    - lr_decay: the learning rate is multiplied by this after each epoch (default 1.0)
    - batch_size: size of the minibatches (default 100)
    - num_epochs: number of epochs to train for (default 10)
    - num_train_samples: number of training samples used to check the training accuracy
      (default 1000; None for the whole training set)
    - num_val_samples: number of validation samples used to check the validation accuracy
      (default None, the whole validation set)
    - checkpoint_name: if not None, a checkpoint is pickled to '<checkpoint_name>_epoch_<e>.pkl'
      whenever the accuracy is checked (every epoch)
    - print_every: the training loss is printed every print_every iterations (default 10)
    - verbose: if False, nothing is printed (default True)
    """

    def __init__(self, model, data, **kwargs):
        self.model = model
        self.X_train = data["X_train"]
        self.y_train = data["y_train"]
        self.X_val = data["X_val"]
        self.y_val = data["y_val"]

        # Unpack the keyword arguments.
        self.update_rule = kwargs.pop("update_rule", "sgd")
        self.optim_config = kwargs.pop("optim_config", {})
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)
        self.checkpoint_name = kwargs.pop("checkpoint_name", None)
        self.print_every = kwargs.pop("print_every", 10)
        self.verbose = kwargs.pop("verbose", True)

        # A misspelt option would otherwise be ignored silently.
        if kwargs:
            names = ", ".join(sorted(kwargs))
            raise ValueError(f"Unrecognized arguments to Solver: {names}")

        # Keep the rule's name for checkpoints, and the function to call.
        if callable(self.update_rule):
            self._update = self.update_rule
            self.update_rule = getattr(self.update_rule, "__name__", repr(self.update_rule))
        elif self.update_rule in UPDATE_RULES:
            self._update = getattr(optim, self.update_rule)
        else:
            valid = ", ".join(repr(name) for name in UPDATE_RULES)
            raise ValueError(f"Invalid update_rule {self.update_rule!r}; valid rules are {valid}")

        self._reset()

    def _reset(self):
        """Set up the bookkeeping variables for a fresh optimisation; train() is not reset."""
        self.epoch = 0
        self.best_val_acc = 0
        self.best_params = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []

        # Each parameter array gets its own config: the rule stores state shaped like the array
        # (velocity, moments) in it, and lr_decay changes each copy's learning rate.
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}

    def _step(self):
        """Make one gradient update on a random minibatch; called by train()."""
        num_train = self.X_train.shape[0]
        batch_mask = np.random.choice(num_train, self.batch_size)  # noqa: NPY002
        X_batch = self.X_train[batch_mask]
        y_batch = self.y_train[batch_mask]

        loss, grads = self.model.loss(X_batch, y_batch)
        self.loss_history.append(loss)

        for name, w in self.model.params.items():
            next_w, next_config = self._update(w, grads[name], self.optim_configs[name])
            self.model.params[name] = next_w
            self.optim_configs[name] = next_config

    def _save_checkpoint(self):
        """Pickle the model, its parameters, the histories and the options, if asked to."""
        if self.checkpoint_name is None:
            return
        checkpoint = {
            "model": self.model,
            "params": {name: np.copy(w) for name, w in self.model.params.items()},
            "best_params": self.best_params,
            "best_val_acc": self.best_val_acc,
            "update_rule": self.update_rule,
            "lr_decay": self.lr_decay,
            "optim_config": self.optim_config,
            "batch_size": self.batch_size,
            "num_epochs": self.num_epochs,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "epoch": self.epoch,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        }
        filename = f"{self.checkpoint_name}_epoch_{self.epoch}.pkl"
        if self.verbose:
            print(f'Saving checkpoint to "{filename}"')
        with open(filename, "wb") as f:
            pickle.dump(checkpoint, f)

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of the data the model classifies correctly.

        Inputs:
        - X: array of data, of shape (N, d_1, ..., d_k)
        - y: array of labels, of shape (N,)
        - num_samples: if not None and smaller than N, the accuracy is measured on that many
          data points drawn at random (with replacement), which is faster
        - batch_size: the scores are computed this many data points at a time, to bound memory

        Returns:
        - acc: scalar, the fraction of the data classified correctly
        """
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            mask = np.random.choice(N, num_samples)  # noqa: NPY002
            N = num_samples
            X = X[mask]
            y = y[mask]

        y_pred = []
        for start in range(0, N, batch_size):
            scores = self.model.loss(X[start : start + batch_size])
            y_pred.append(np.argmax(scores, axis=1))
        y_pred = np.hstack(y_pred)
        return float(np.mean(y_pred == y))

    def train(self):
        """Run the optimisation, then put the best parameters found back into the model."""
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch

        for t in range(num_iterations):
            self._step()

            if self.verbose and t % self.print_every == 0:
                print(f"(Iteration {t + 1} / {num_iterations}) loss: {self.loss_history[-1]:f}")

            # At the end of every epoch, move to the next and decay the learning rate.
            epoch_end = (t + 1) % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for config in self.optim_configs.values():
                    if "learning_rate" in config:
                        config["learning_rate"] *= self.lr_decay

            # Check the accuracies on the first iteration, the last one and at each epoch's end.
            first_it = t == 0
            last_it = t == num_iterations - 1
            if first_it or last_it or epoch_end:
                train_acc = self.check_accuracy(
                    self.X_train, self.y_train, num_samples=self.num_train_samples
                )
                val_acc = self.check_accuracy(
                    self.X_val, self.y_val, num_samples=self.num_val_samples
                )
                self.train_acc_history.append(train_acc)
                self.val_acc_history.append(val_acc)

                if self.verbose:
                    print(
                        f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; "
                        f"val_acc: {val_acc:f}"
                    )

                # Keep a copy of the best parameters; the first check always sets them, so the
                # model gets parameters back even if the validation accuracy stays at zero.
                if val_acc > self.best_val_acc or not self.best_params:
                    self.best_val_acc = val_acc
                    self.best_params = {name: np.copy(w) for name, w in self.model.params.items()}

                self._save_checkpoint()

        # At the end of training put the best parameters into the model; copies, so that further
        # training leaves best_params as they are.
        self.model.params.update({name: np.copy(w) for name, w in self.best_params.items()})
