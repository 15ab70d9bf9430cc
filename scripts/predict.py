"""Label every sentence of news articles with an exported model; see train/predict.py or --help."""

from train.predict import main

if __name__ == "__main__":
    main()
