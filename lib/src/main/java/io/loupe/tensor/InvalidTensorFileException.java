package io.loupe.tensor;

/** A tensor or model file that cannot be used as it is: missing, truncated, corrupt or of the wrong shape. */
public class InvalidTensorFileException extends IllegalArgumentException {
    public InvalidTensorFileException(String message) {
        super(message);
    }
}
