"""The file MLflow logs as the model (models from code): it names the model class and nothing more, so
logging runs no heavy code; `ProgramModel.load_context` does the loading. MLflow runs this file from the
model's directory, so its location bounds where the model may read artifacts."""

from pathlib import Path

import mlflow

from serving.program_model import ProgramModel

mlflow.models.set_model(ProgramModel(model_dir=Path(__file__).resolve().parent))
