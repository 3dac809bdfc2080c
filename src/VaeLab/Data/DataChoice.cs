namespace VaeLab.Data;

/// <summary>The training and test data a job runs on, and a sentence saying which data was chosen and why.</summary>
/// <param name="Train">Training examples.</param>
/// <param name="Test">Held-out test examples.</param>
/// <param name="Description">Which data this is and where it came from, for printing.</param>
public sealed record DataChoice(Dataset Train, Dataset Test, string Description) : IDisposable
{
    /// <summary>Frees both datasets.</summary>
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
