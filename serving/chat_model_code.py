"""The file MLflow logs as a program's chat model (models from code): it names the model class and nothing
more; `ChatProgramModel.load_context` does the loading, bounded to this file's directory."""

from pathlib import Path

import mlflow

from serving.chat_model import ChatProgramModel

mlflow.models.set_model(ChatProgramModel(model_dir=Path(__file__).resolve().parent))
