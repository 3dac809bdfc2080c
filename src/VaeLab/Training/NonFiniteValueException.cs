namespace VaeLab.Training;

/// <summary>
/// Training met NaN or ±∞ in a loss term, a gradient or a log σ. Training stops before the optimiser step
/// and before any checkpoint is written, so the last good checkpoint is untouched.
/// </summary>
public sealed class NonFiniteValueException : ArithmeticException
{
    /// <summary>Creates the error naming where it happened.</summary>
    public NonFiniteValueException(int epoch, int batch, string term)
        : base($"Non-finite value in {term} at epoch {epoch}, batch {batch}: training stopped before the optimiser step; the last checkpoint is untouched. " +
               "Try a lower learning rate, gradient clipping, or a bounded likelihood.")
    {
        Epoch = epoch;
        Batch = batch;
        Term = term;
    }

    /// <summary>1-based epoch.</summary>
    public int Epoch { get; }

    /// <summary>1-based batch within the epoch.</summary>
    public int Batch { get; }

    /// <summary>Which value went bad, e.g. "KL (nats)" or "gradient of Encoder.head.weight".</summary>
    public string Term { get; }
}
