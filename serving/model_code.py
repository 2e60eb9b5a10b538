"""The file MLflow logs as the model (models from code): it names the model class and nothing more, so
logging runs no heavy code; `ProgramModel.load_context` does the loading."""

import mlflow

from serving.program_model import ProgramModel

mlflow.models.set_model(ProgramModel())
