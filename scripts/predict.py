"""Label every sentence of news articles with an exported model; see train/inference/predict.py or --help."""

from train.inference.predict import main

if __name__ == "__main__":
    main()
