"""Build the int8 engine of an exported model folder; see train/inference/quantize.py or --help."""

from train.inference.quantize import main

if __name__ == "__main__":
    main()
