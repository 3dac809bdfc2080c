using System.Text.RegularExpressions;

namespace VaeLab.Experiments;

/// <summary>
/// What a results row must be before any table uses it: every field present and well-formed, its id that of its file and the
/// hash of its own configuration, its figures finite where a finished run has them, one entry per epoch and per latent dimension.
/// A row that fails is refused with its file and the cause: a table that silently lost or doubled a run is worse than none.
/// </summary>
public static partial class RunRowValidation
{
    /// <summary>The first thing wrong with <paramref name="row"/> read from <paramref name="path"/>, or null when it is whole.</summary>
    public static string? Problem(RunResult? row, string path)
    {
        if (row is null) return "it holds no row (null).";
        string expectedId = Path.GetFileNameWithoutExtension(path);
        if (string.IsNullOrEmpty(row.RunId)) return "the field runId is missing.";
        if (row.Config is null) return "the field config is missing.";
        RunConfig config = row.Config;
        if (config.HiddenSizes is null) return "the field config.hiddenSizes is missing.";
        if (row.RunId != expectedId) return $"it holds run '{row.RunId}', but its file name says '{expectedId}' (a row copied from another run's file?).";
        string configId;
        try { configId = config.Id; }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException) { return $"its configuration cannot be read ({e.Message})."; }
        if (configId != row.RunId) return $"its configuration hashes to '{configId}', not to its id '{row.RunId}' (the settings were edited, or the row belongs to another run).";
        foreach (var (name, value) in new[]
        {
            ("testElboNats", row.TestElboNats), ("testElboStandardError", row.TestElboStandardError),
            ("reconstructionLogLikelihoodNats", row.ReconstructionLogLikelihoodNats), ("klNats", row.KlNats),
            ("distortionNats", row.DistortionNats), ("wallSeconds", row.WallSeconds),
        })
            if (!double.IsFinite(value)) return $"the field {name} is {value}, not a finite number.";
        if (row.TestElboStandardError < 0 || row.WallSeconds < 0) return "a standard error or the wall time is negative.";
        if (row.DistortionNats != -row.ReconstructionLogLikelihoodNats)
            return $"the field distortionNats ({row.DistortionNats}) is not −reconstructionLogLikelihoodNats ({row.ReconstructionLogLikelihoodNats}).";
        // Each example's ELBO is its reconstruction term minus its KL; the means agree up to the rounding of float32 sums.
        double parts = row.ReconstructionLogLikelihoodNats - row.KlNats;
        if (Math.Abs(row.TestElboNats - parts) > 1e-3 * (1 + Math.Abs(parts)))
            return $"the field testElboNats ({row.TestElboNats}) is not reconstructionLogLikelihoodNats − klNats ({parts}).";
        if (config.ImportanceSamples > 0 && !(double.IsFinite(row.LogLikelihoodNats) && double.IsFinite(row.LogLikelihoodStandardError)))
            return $"the field logLikelihoodNats is {row.LogLikelihoodNats} (± {row.LogLikelihoodStandardError}), but the run asked for an importance-sampled log p(x) (k = {config.ImportanceSamples}).";
        if (row.ActiveUnits < 0 || row.ActiveUnits > config.LatentDimensions)
            return $"the field activeUnits is {row.ActiveUnits}, outside 0 to the {config.LatentDimensions} latent dimensions.";
        if (config.GapExamples > 0 && row.Gap is null) return $"the run asked for an inference gap on {config.GapExamples} examples, and the row holds none.";
        if (row.KlPerDimensionNats is null) return "the field klPerDimensionNats is missing.";
        // Only the diagonal posterior's closed-form KL to N(0, I) splits over dimensions.
        int perDimension = config.PosteriorInUse.IsDiagonal && config.PriorInUse.IsStandard ? config.LatentDimensions : 0;
        if (row.KlPerDimensionNats.Length != perDimension)
            return $"the field klPerDimensionNats has {row.KlPerDimensionNats.Length} entries; a {config.PosteriorInUse} run on {config.LatentDimensions} latent dimensions has {perDimension}.";
        if (config.Data == SweepData.Shapes && row.Disentanglement is null) return "the run is on the shapes grid, and the row holds no disentanglement scores.";
        if (row.TrainElboByEpoch is null || row.TestElboByEpoch is null) return "the field trainElboByEpoch or testElboByEpoch is missing.";
        if (row.TrainElboByEpoch.Length != config.Epochs || row.TestElboByEpoch.Length != config.Epochs)
            return $"it records {row.TrainElboByEpoch.Length} training and {row.TestElboByEpoch.Length} test epochs for a run of {config.Epochs}.";
        if (row.KlPerDimensionNats.Concat(row.TrainElboByEpoch).Concat(row.TestElboByEpoch).Any(v => !double.IsFinite(v)))
            return "a per-epoch or per-dimension figure is not a finite number (the run diverged, or the row was damaged).";
        if (string.IsNullOrEmpty(row.DataDescription)) return "the field dataDescription is missing.";
        if (string.IsNullOrEmpty(row.Versions)) return "the field versions is missing.";
        if (row.FinishedUtc == default) return "the field finishedUtc is missing.";
        if (row.ModelSha256 is { } hash && !Sha256Hex().IsMatch(hash)) return $"the field modelSha256 '{hash}' is not a SHA-256 (64 hex digits).";
        return null;
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();
}

/// <summary>A results row that cannot be used; the message names its file and the cause.</summary>
public sealed class RunRowException : FormatException
{
    /// <summary>Creates the error for the row file <paramref name="path"/>.</summary>
    public RunRowException(string path, string cause, Exception? inner = null)
        : base($"Result file '{path}': {cause}", inner)
    {
        FilePath = path;
        Cause = cause;
    }

    /// <summary>The row file.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it.</summary>
    public string Cause { get; }
}
