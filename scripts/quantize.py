"""Build the int8 engine of an exported model folder; see train/inference/int8_engine.py or --help."""

from train.inference.int8_engine import main

if __name__ == "__main__":
    main()
