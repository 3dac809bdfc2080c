namespace VaeLab.Training;

/// <summary>Where training stands, reported after each batch through <see cref="IProgress{T}"/>.</summary>
/// <param name="Epoch">Current epoch (1-based).</param>
/// <param name="Epochs">Epoch the run trains to.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="RunningLossNats">Mean loss over this epoch's batches so far, nats per example.</param>
/// <param name="ExamplesPerSecond">Training throughput in this epoch so far.</param>
/// <param name="Eta">Estimated time to the end of the run.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Batch, int Batches, double RunningLossNats, double ExamplesPerSecond, TimeSpan Eta);
