using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using VaeLab.Models;
using VaeLab.Models.Posteriors;
using VaeLab.Models.Priors;
using VaeLab.Objectives;
using VaeLab.Training;

namespace VaeLab.Experiments;

/// <summary>The settings of one run of a sweep. <see cref="Id"/> is stable: the same settings always give the same id.</summary>
public sealed record RunConfig(
    int LatentDimensions,
    double Beta,
    long Seed,
    int Epochs,
    int BatchSize,
    double LearningRate,
    int[] HiddenSizes,
    Architecture Architecture,
    LikelihoodKind Likelihood,
    SweepData Data,
    int? TrainExamples,
    int? TestExamples,
    int ImportanceSamples,
    string? DataDirectory)
{
    /// <summary>
    /// The posterior family (null: the diagonal Gaussian, stored as null and left out of the JSON, so the ids of diagonal runs are
    /// those they always had).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public PosteriorSpec? Posterior { get; init => field = value is { IsDiagonal: true } ? null : value; }

    /// <summary>The prior (null: the standard normal, left out of the JSON, so the ids of runs with it are those they always had).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public PriorSpec? Prior { get; init => field = value is { IsStandard: true } ? null : value; }

    /// <summary>The prior in use (the standard normal when <see cref="Prior"/> is null).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public PriorSpec PriorInUse => Prior ?? PriorSpec.Standard;

    /// <summary>
    /// The inference gap is decomposed on the first this many test examples (0: not at all, left out of the JSON, so the ids of runs
    /// without a gap are those they always had). Part of the id: a sweep asked for a gap does not take a run without one as finished.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int GapExamples { get; init; }

    /// <summary>Whether the gap uses <see cref="VaeLab.Evaluation.Inference.GapOptions.Quick"/> (false: the full defaults; left out of the JSON when false).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool QuickGap { get; init; }

    /// <summary>The posterior family in use (the diagonal Gaussian when <see cref="Posterior"/> is null).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public PosteriorSpec PosteriorInUse => Posterior ?? PosteriorSpec.Diagonal;

    /// <summary>A readable, stable id: "d20-b1-s0-" and 10 hex digits of the SHA-256 of every setting.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Id
    {
        get
        {
            string canonical = JsonSerializer.Serialize(this with { HiddenSizes = [.. HiddenSizes] });
            string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..10];
            return string.Create(CultureInfo.InvariantCulture, $"d{LatentDimensions}-b{Beta:G6}-s{Seed}-{hash}");
        }
    }

    /// <summary>The model configuration for images of 1×28×28.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public VaeConfig Model => new([1, 28, 28], LatentDimensions, HiddenSizes, Architecture, Likelihood, Posterior: Posterior, Prior: Prior);

    /// <summary>The training options of the run.</summary>
    public TrainingOptions Training() =>
        new(Epochs, BatchSize, LearningRate, Seed: Seed, Objective: new ObjectiveOptions(Beta: Beta));

    /// <inheritdoc />
    public bool Equals(RunConfig? other) => other is not null && Id == other.Id;

    /// <inheritdoc />
    public override int GetHashCode() => Id.GetHashCode(StringComparison.Ordinal);
}
