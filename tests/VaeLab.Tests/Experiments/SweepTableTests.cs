using System.Text.Json;
using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Experiments;
using VaeLab.Models;
using VaeLab.Models.Posteriors;
using static TorchSharp.torch;

namespace VaeLab.Tests.Experiments;

/// <summary>
/// Tests that would notice a wrong table: every column of results.csv against a computation of its own from the run's files (its
/// row as raw JSON, its saved model, the data), and every axis of a spec changing what is trained and what is recorded.
/// </summary>
public class SweepTableTests
{
    static double Number(Microsoft.Data.Analysis.DataFrame frame, string column, int row) => Convert.ToDouble(frame[column][row]);

    [Fact]
    public void EveryColumnOfResultsCsvMatchesAnIndependentComputationFromTheRunsOwnFiles()
    {
        using var folder = new TempDirectory();
        var store = new ResultStore(folder.File("store"));
        SweepSpec spec = ResultStoreIntegrityTests.Tiny with { Betas = [0.5] };
        SweepRunner.Run(spec, store);
        string csv = folder.File("results.csv");
        ResultsTable.WriteCsv(ResultsTable.ToDataFrame(store.Load()), csv);
        var table = ResultsTable.ReadCsv(csv);
        Assert.Equal(ResultsTable.Columns, table.Columns.Select(c => c.Name));
        using DataChoice data = SweepRunner.LoadData(spec);
        var checkedColumns = new HashSet<string>();
        void Pin(string column, object? expected, object? actual)
        {
            checkedColumns.Add(column);
            Assert.True(Equals(expected, actual), $"{column}: expected {expected}, the table says {actual}");
        }
        void Close(string column, double expected, double actual, double tolerance)
        {
            checkedColumns.Add(column);
            Assert.True(double.IsNaN(expected) ? double.IsNaN(actual) : Math.Abs(expected - actual) <= tolerance,
                $"{column}: expected {expected}, the table says {actual}");
        }

        string[] rowFiles = Directory.GetFiles(Path.Combine(store.Folder, "runs"), "*.json");
        Assert.Equal(2, rowFiles.Length);
        Assert.Equal(2, (int)table.Rows.Count);
        // Every run of the spec once: the table's ids are the spec's, none twice, none missing.
        Assert.Equal(spec.Configurations().Select(c => c.Id).Order(), Enumerable.Range(0, 2).Select(i => (string)table["run_id"][i]!).Order());
        for (int i = 0; i < table.Rows.Count; i++)
        {
            string id = (string)table["run_id"][i]!;
            string file = Path.Combine(store.Folder, "runs", id + ".json");
            Pin("run_id", true, rowFiles.Contains(file));
            using JsonDocument raw = JsonDocument.Parse(File.ReadAllText(file));
            JsonElement row = raw.RootElement, config = row.GetProperty("Config");
            int latent = config.GetProperty("LatentDimensions").GetInt32();
            Pin("latent", latent, (int)table["latent"][i]!);
            Pin("beta", config.GetProperty("Beta").GetDouble(), Number(table, "beta", i));
            Pin("seed", config.GetProperty("Seed").GetInt64(), (long)table["seed"][i]!);
            Pin("epochs", config.GetProperty("Epochs").GetInt32(), (int)table["epochs"][i]!);
            Pin("likelihood", config.GetProperty("Likelihood").GetString(), (string)table["likelihood"][i]!);
            Pin("architecture", config.GetProperty("Architecture").GetString(), (string)table["architecture"][i]!);
            Pin("posterior", config.TryGetProperty("Posterior", out JsonElement family) ? family.GetString() : "Diagonal", (string)table["posterior"][i]!);
            Pin("prior", config.TryGetProperty("Prior", out JsonElement prior) ? prior.GetString() : "Standard", (string)table["prior"][i]!);
            Pin("parallelism", row.GetProperty("Strategy").GetProperty("Parallelism").GetString(), (string)table["parallelism"][i]!);
            Pin("threads", row.GetProperty("Strategy").GetProperty("Threads").GetInt32(), (int)table["threads"][i]!);
            Close("wall_seconds", row.GetProperty("WallSeconds").GetDouble(), Number(table, "wall_seconds", i), 0);

            // The figures, from the saved model on the sweep's test data.
            var (header, _) = ModelFile.Verify(store.ModelPath(id), id, new VaeConfig([1, 28, 28], latent, [32]), null);
            Assert.Equal(id, header.RunId);
            using VariationalAutoencoder model = store.LoadModel(store.TryRead(id, out _)!)!;
            long seed = config.GetProperty("Seed").GetInt64();
            ElboSummary elbo = Evaluator.TestElbo(model, data.Test, seed);
            Close("test_elbo_nats", elbo.ElboNats, Number(table, "test_elbo_nats", i), 1e-9);
            Close("test_elbo_se", elbo.ElboStandardError, Number(table, "test_elbo_se", i), 1e-9);
            Close("reconstruction_loglik_nats", elbo.ReconstructionLogLikelihoodNats, Number(table, "reconstruction_loglik_nats", i), 1e-9);
            Close("distortion_nats", -elbo.ReconstructionLogLikelihoodNats, Number(table, "distortion_nats", i), 1e-9);
            Pin("figures_are", PixelTreatment.Resolve(model.Likelihood, data.Test).Label, (string)table["figures_are"][i]!);

            // The KL and the active units by hand, in float64, from the encoder's μ and log σ² (no sampling involved).
            double kl = 0;
            var means = new double[data.Test.Count, latent];
            using (no_grad())
            {
                var (mean, logVariance) = model.EncodeDiagonal(data.Test.Examples);
                double[] mu = mean.to_type(ScalarType.Float64).data<double>().ToArray(), logVar = logVariance.to_type(ScalarType.Float64).data<double>().ToArray();
                for (int j = 0; j < mu.Length; j++)
                {
                    kl += 0.5 * (mu[j] * mu[j] + Math.Exp(logVar[j]) - 1 - logVar[j]);
                    means[j / latent, j % latent] = mu[j];
                }
            }
            Close("kl_nats", kl / data.Test.Count, Number(table, "kl_nats", i), 1e-4);
            int active = Enumerable.Range(0, latent).Count(u =>
            {
                double average = Enumerable.Range(0, data.Test.Count).Average(n => means[n, u]);
                return Enumerable.Range(0, data.Test.Count).Average(n => (means[n, u] - average) * (means[n, u] - average)) * data.Test.Count / (data.Test.Count - 1) > 0.01;
            });
            Pin("active_units", active, (int)table["active_units"][i]!);

            LogLikelihoodEstimate logPx = Evaluator.ImportanceSampledLogLikelihood(model, data.Test, config.GetProperty("ImportanceSamples").GetInt32(), seed);
            Close("log_px_nats", logPx.LogLikelihoodNats, Number(table, "log_px_nats", i), 1e-9);
            Close("log_px_se", logPx.MonteCarloStandardError, Number(table, "log_px_se", i), 1e-9);
            Close("bits_per_dim", -logPx.LogLikelihoodNats / (784 * Math.Log(2)), Number(table, "bits_per_dim", i), 1e-9);
            Assert.True(logPx.LogLikelihoodNats >= elbo.ElboNats - 5 * elbo.ElboStandardError, "log p(x) should not fall far below the ELBO");

            // Runs without a factor grid or a gap decomposition have none of those figures.
            foreach (string column in new[] { "mig", "factorvae_score", "betavae_score", "log_px_ais_nats", "log_px_ais_se", "elbo_local_nats", "approximation_gap_nats", "amortisation_gap_nats" })
                Close(column, double.NaN, Number(table, column, i), 0);
        }
        Assert.Equal(ResultsTable.Columns.Order(), checkedColumns.Order());
    }

    /// <summary>Each axis of a spec, as a change to a one-run baseline, and whether it changes the trained model (else only the figures).</summary>
    public static TheoryData<string> Axes => new()
    {
        "latentSizes", "betas", "seeds", "epochs", "batchSize", "learningRate", "hiddenSizes", "architecture", "likelihood", "posterior",
        "trainExamples", "testExamples", "importanceSamples", "data", "gapExamples", "prior",
    };

    static SweepSpec Baseline => ResultStoreIntegrityTests.Tiny with { LatentSizes = [2] };

    static SweepSpec Change(string axis) => axis switch
    {
        "latentSizes" => Baseline with { LatentSizes = [3] },
        "betas" => Baseline with { Betas = [4] },
        "seeds" => Baseline with { Seeds = [1] },
        "epochs" => Baseline with { Epochs = 1 },
        "batchSize" => Baseline with { BatchSize = 50 },
        "learningRate" => Baseline with { LearningRate = 3e-3 },
        "hiddenSizes" => Baseline with { HiddenSizes = [48] },
        "architecture" => Baseline with { Architecture = Architecture.Conv },
        "likelihood" => Baseline with { Likelihood = LikelihoodKind.GaussianShared },
        "posterior" => Baseline with { Posterior = PosteriorSpec.Parse("Planar:2") },
        "trainExamples" => Baseline with { TrainExamples = 300 },
        "testExamples" => Baseline with { TestExamples = 60 },
        "importanceSamples" => Baseline with { ImportanceSamples = 9 },
        "data" => Baseline with { Data = SweepData.Shapes },
        "gapExamples" => Baseline with { GapExamples = 4, QuickGap = true },
        "prior" => Baseline with { Prior = VaeLab.Models.Priors.PriorSpec.Parse("Vamp:5") },
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, null),
    };

    static bool SameParameters(VariationalAutoencoder a, VariationalAutoencoder b)
    {
        var left = a.parameters().ToArray();
        var right = b.parameters().ToArray();
        return left.Length == right.Length && left.Zip(right).All(p => p.First.shape.SequenceEqual(p.Second.shape) && p.First.eq(p.Second).all().item<bool>());
    }

    [Theory]
    [MemberData(nameof(Axes))]
    public void ChangingAnAxisOfTheSpecChangesWhatIsTrainedAndWhatIsRecorded(string axis)
    {
        using var folder = new TempDirectory();
        var store = new ResultStore(folder.File("store"));
        RunResult baseline = SweepRunner.Run(Baseline, store).Single();
        SweepSpec changed = Change(axis);
        RunResult run = SweepRunner.Run(changed, store).Single();
        Assert.NotEqual(baseline.RunId, run.RunId);
        Assert.Equal(changed.Configurations().Single(), run.Config);   // recorded: the row's settings are the changed spec's

        using VariationalAutoencoder before = store.LoadModel(baseline)!, after = store.LoadModel(run)!;
        bool evaluationOnly = axis is "testExamples" or "importanceSamples" or "gapExamples";
        Assert.True(SameParameters(before, after) == evaluationOnly,
            evaluationOnly ? $"{axis} only changes the evaluation, yet the trained model changed" : $"{axis} changed, yet the same model was trained");
        switch (axis)
        {
            case "testExamples": Assert.NotEqual(baseline.TestElboNats, run.TestElboNats); break;
            case "importanceSamples": Assert.NotEqual(baseline.LogLikelihoodNats, run.LogLikelihoodNats); break;
            case "gapExamples": Assert.Null(baseline.Gap); Assert.NotNull(run.Gap); break;
            case "epochs": Assert.Single(run.TrainElboByEpoch); break;
            case "data": Assert.NotNull(run.Disentanglement); Assert.NotEqual(baseline.DataDescription, run.DataDescription); break;
        }

        // The list form of an axis is the same axis.
        SweepSpec listed = axis switch
        {
            "epochs" => Baseline with { EpochCounts = [1] },
            "architecture" => Baseline with { Architectures = [Architecture.Conv] },
            "likelihood" => Baseline with { Likelihoods = [LikelihoodKind.GaussianShared] },
            "posterior" => Baseline with { Posteriors = [PosteriorSpec.Parse("Planar:2")] },
            "prior" => Baseline with { Priors = [VaeLab.Models.Priors.PriorSpec.Parse("Vamp:5")] },
            _ => changed,
        };
        Assert.Equal(run.RunId, listed.Configurations().Single().Id);
    }
}
