using System.Text.Json;
using System.Text.Json.Nodes;
using VaeLab.Experiments;

namespace VaeLab.Tests.Experiments;

/// <summary>Rows and models of a results store are validated when read; damaged ones are named, set aside, and their runs retrained.</summary>
public class ResultStoreIntegrityTests
{
    /// <summary>A two-run sweep small enough to train in a second: latent 2 and 3, on the first 400 Fashion-MNIST images.</summary>
    internal static SweepSpec Tiny { get; } = new([2, 3], [1.0], [0], Epochs: 2, BatchSize: 100, HiddenSizes: [32],
        TrainExamples: 400, TestExamples: 100, ImportanceSamples: 5);

    static RunResult Row(RunConfig config) =>
        new(config.Id, config, -250, 0.5, -240, 10, 240, -245, 0.1, 1, new double[config.LatentDimensions],
            [.. Enumerable.Repeat(-260.0, config.Epochs)], [.. Enumerable.Repeat(-255.0, config.Epochs)], 3.5, "test data", "versions",
            new DateTime(2026, 12, 7, 0, 0, 0, DateTimeKind.Utc));

    static void Edit(string path, Action<JsonObject> edit)
    {
        JsonObject row = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(row);
        File.WriteAllText(path, row.ToJsonString());
    }

    public static TheoryData<string, string> Damages => new()
    {
        { "empty-object", "missing required properties" },
        { "deleted-kl", "missing required properties including: 'KlNats'" },
        { "negative-se", "a standard error or the wall time is negative" },
        { "nan-epoch", "a per-epoch or per-dimension figure is not a finite number" },
        { "kl-per-dimension", "klPerDimensionNats has 0 entries" },
        { "edited-elbo", "is not reconstructionLogLikelihoodNats − klNats" },
        { "edited-distortion", "is not −reconstructionLogLikelihoodNats" },
        { "missing-versions", "the field versions is missing" },
        { "other-runs-row", "but its file name says" },
        { "edited-setting", "its configuration hashes to" },
        { "nan-elbo", "testElboNats is NaN" },
        { "missing-epochs", "training and 1 test epochs for a run of 2" },
        { "nan-log-px", "asked for an importance-sampled log p(x)" },
        { "too-many-active-units", "activeUnits is 9" },
        { "not-json", "not a valid VaeLab result" },
        { "bad-hash", "is not a SHA-256" },
    };

    [Theory]
    [MemberData(nameof(Damages))]
    public void ADamagedRowIsRefusedNamingItsFileAndTheCause(string damage, string cause)
    {
        using var folder = new TempDirectory();
        var store = new ResultStore(folder.File("store"));
        RunConfig[] configs = [.. Tiny.Configurations()];
        store.Add(Row(configs[0]));
        store.Add(Row(configs[1]));
        string path = store.RowPath(configs[0].Id);
        switch (damage)
        {
            case "empty-object": File.WriteAllText(path, "{}"); break;
            case "deleted-kl": Edit(path, row => row.Remove("KlNats")); break;
            case "negative-se": Edit(path, row => row["TestElboStandardError"] = -0.5); break;
            case "nan-epoch": Edit(path, row => row["TrainElboByEpoch"] = new JsonArray("NaN", -260.0)); break;
            case "kl-per-dimension": Edit(path, row => row["KlPerDimensionNats"] = new JsonArray()); break;
            case "edited-elbo": Edit(path, row => row["TestElboNats"] = -249.0); break;
            case "edited-distortion": Edit(path, row => row["DistortionNats"] = 241.0); break;
            case "missing-versions": Edit(path, row => row["Versions"] = ""); break;
            case "other-runs-row": File.Copy(store.RowPath(configs[1].Id), path, overwrite: true); break;
            case "edited-setting": Edit(path, row => row["Config"]!["Beta"] = 4.0); break;
            case "nan-elbo": Edit(path, row => row["TestElboNats"] = "NaN"); break;
            case "missing-epochs": Edit(path, row => row["TestElboByEpoch"] = new JsonArray(-1.0)); break;
            case "nan-log-px": Edit(path, row => row["LogLikelihoodNats"] = "NaN"); break;
            case "too-many-active-units": Edit(path, row => row["ActiveUnits"] = 9); break;
            case "not-json": File.WriteAllText(path, "{\"RunId\": "); break;
            case "bad-hash": Edit(path, row => row["ModelSha256"] = "abc"); break;
        }
        var error = Assert.Throws<RunRowException>(() => store.Load());
        Assert.Equal(path, error.FilePath);
        Assert.Contains(path, error.Message);
        Assert.Contains(cause, error.Message);
        Assert.Null(store.TryRead(configs[0].Id, out string? problem));
        Assert.Contains(cause, problem);
        Assert.NotNull(store.TryRead(configs[1].Id, out _));
        // A row that would be refused when read is refused when written.
        Assert.Throws<RunRowException>(() => store.Add(Row(configs[0]) with { KlNats = double.PositiveInfinity }));
    }

    [Fact]
    public void ARunThatAskedForAGapOrScoresNeedsThem()
    {
        RunConfig gap = (Tiny with { GapExamples = 5 }).Configurations()[0];
        Assert.Contains("asked for an inference gap on 5 examples", RunRowValidation.Problem(Row(gap), $"/store/runs/{gap.Id}.json"));
        RunConfig shapes = (Tiny with { Data = SweepData.Shapes }).Configurations()[0];
        Assert.Contains("no disentanglement scores", RunRowValidation.Problem(Row(shapes), $"/store/runs/{shapes.Id}.json"));
        RunConfig planar = (Tiny with { Posterior = VaeLab.Models.Posteriors.PosteriorSpec.Parse("Planar:2") }).Configurations()[0];
        Assert.Contains("klPerDimensionNats has 2 entries", RunRowValidation.Problem(Row(planar), $"/store/runs/{planar.Id}.json"));
        Assert.Null(RunRowValidation.Problem(Row(planar) with { KlPerDimensionNats = [] }, $"/store/runs/{planar.Id}.json"));
    }

    [Fact]
    public void AStoreWrittenBeforeModelsWereHashedIsReadAsItWasAndNotRetrained()
    {
        using var folder = new TempDirectory();
        var store = new ResultStore(folder.File("store"));
        RunResult run = SweepRunner.Run(Tiny, store)[0];
        // As an earlier VaeLab wrote it: the row without a model hash, the model file bare parameters.
        Edit(store.RowPath(run.RunId), row => row.Remove("ModelSha256"));
        using (var model = store.LoadModel(run)!)
            VaeLab.IO.AtomicFile.Write(store.ModelPath(run.RunId), stream => { using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true); model.save(writer); });
        RunResult old = store.TryRead(run.RunId, out _)!;
        Assert.Null(old.ModelSha256);
        using (var model = store.LoadModel(old)!) Assert.Equal(2, model.LatentDimensions);
        Assert.Null(store.ModelProblem(old));
        var lines = new List<string>();
        SweepRunner.Run(Tiny, store, progress: new VaeLab.Runtime.SynchronousProgress<string>(lines.Add));
        Assert.DoesNotContain(lines, l => l.Contains(": training") || l.Contains("Set aside"));
        // A row from before models were kept at all: no model, nothing wrong.
        File.Delete(store.ModelPath(run.RunId));
        Assert.Null(store.LoadModel(old));
        Assert.Null(store.ModelProblem(old));
    }

    [Fact]
    public void OpeningAStoreCreatesNothing()
    {
        using var folder = new TempDirectory();
        var store = new ResultStore(folder.File("never"));
        Assert.Empty(store.Load());
        Assert.False(Directory.Exists(store.Folder));
    }

    [Fact]
    public void AMergeFindsAConflictInAnyFigureAndCopiesNothingThen()
    {
        RunConfig config = Tiny.Configurations()[0];
        RunResult row = Row(config);
        Assert.Null(ResultStore.Conflict(row, row with { WallSeconds = 99, FinishedUtc = DateTime.UtcNow, Versions = "other" }));
        Assert.Equal("TestElboNats", ResultStore.Conflict(row, row with { TestElboNats = -250.5 }));
        Assert.Equal("LogLikelihoodNats", ResultStore.Conflict(row, row with { LogLikelihoodNats = -246 }));
        Assert.Equal("ActiveUnits", ResultStore.Conflict(row, row with { ActiveUnits = 2 }));
        Assert.Equal("TrainElboByEpoch", ResultStore.Conflict(row, row with { TrainElboByEpoch = [-260, -261] }));

        using var folder = new TempDirectory();
        var target = new ResultStore(folder.File("target"));
        var source = new ResultStore(folder.File("source"));
        target.Add(row);
        source.Add(row with { ActiveUnits = 2 });
        source.Add(Row(Tiny.Configurations()[1]));
        var error = Assert.Throws<InvalidDataException>(() => target.MergeFrom(source));
        Assert.Contains("ActiveUnits differs", error.Message);
        Assert.Single(target.Load());   // the source's other run was not copied either
    }

    [Fact]
    public void ASweepSetsADamagedRowOrModelAsideAndTrainsThatRunAgainToTheSameFigures()
    {
        using var folder = new TempDirectory();
        var store = new ResultStore(folder.File("store"));
        var first = SweepRunner.Run(Tiny, store);
        RunConfig[] configs = [.. Tiny.Configurations()];
        string a = configs[0].Id, b = configs[1].Id;

        void Check(string damage, Action harm, string said)
        {
            harm();
            var lines = new List<string>();
            var rows = SweepRunner.Run(Tiny, store, progress: new VaeLab.Runtime.SynchronousProgress<string>(lines.Add));
            Assert.True(lines.Any(l => l.Contains(said) && l.Contains("Set aside in") && l.Contains(Path.Combine(store.Folder, "rejected"))),
                $"{damage}: the sweep did not say it set the run aside:\n{string.Join('\n', lines)}");
            Assert.Contains(lines, l => l.Contains($"{a}: training"));
            Assert.DoesNotContain(lines, l => l.Contains($"{b}: training"));
            Assert.Equal([a, b], rows.Select(r => r.RunId).Order(StringComparer.Ordinal));
            Assert.Equal([a, b], store.Load().Select(r => r.RunId));
            // Training is deterministic: the retrained run has the figures it had.
            Assert.Null(ResultStore.Conflict(first.Single(r => r.RunId == a), rows.Single(r => r.RunId == a)));
            Assert.Null(store.ModelProblem(rows.Single(r => r.RunId == a)));
        }

        int rejected() => Directory.GetFiles(store.RejectedFolder).Length;
        Check("empty row", () => File.WriteAllText(store.RowPath(a), "{}"), store.RowPath(a));
        Assert.Equal(2, rejected());   // the row and its model, kept
        Check("another run's row", () => File.Copy(store.RowPath(b), store.RowPath(a), overwrite: true), "but its file name says");
        Check("truncated model", () => { byte[] model = File.ReadAllBytes(store.ModelPath(a)); File.WriteAllBytes(store.ModelPath(a), model[..(model.Length / 2)]); }, "truncated or altered");
        Check("another run's model", () => File.Copy(store.ModelPath(b), store.ModelPath(a), overwrite: true), "is not the model its run's row recorded");
        Check("missing model", () => File.Delete(store.ModelPath(a)), "the file does not exist");
        Check("foreign file as model", () => File.WriteAllText(store.ModelPath(a), "not a model"), "not a VaeLab model file");
        Check("one altered byte", () => { byte[] model = File.ReadAllBytes(store.ModelPath(a)); model[model.Length / 2] ^= 1; File.WriteAllBytes(store.ModelPath(a), model); }, "truncated or altered");
        Assert.Equal(13, rejected());   // nothing lost: every damaged file kept (the missing model had none to keep)
    }

    [Fact]
    public void AModelFileNamesItsRunAndAReportReadingADamagedOneNamesTheFile()
    {
        using var folder = new TempDirectory();
        var store = new ResultStore(folder.File("store"));
        RunResult run = SweepRunner.Run(Tiny with { LatentSizes = [2] }, store).Single();
        using (var model = store.LoadModel(run)) Assert.NotNull(model);
        File.WriteAllBytes(store.ModelPath(run.RunId), File.ReadAllBytes(store.ModelPath(run.RunId))[..100]);
        var error = Assert.Throws<ModelFileException>(() => store.LoadModel(run));
        Assert.Contains(store.ModelPath(run.RunId), error.Message);
        var viaGap = Assert.ThrowsAny<IOException>(() => TrainedModel.Load(store.Folder, run.RunId));
        Assert.Contains(store.ModelPath(run.RunId), viaGap.Message);
    }

    [Fact]
    public void AMisspeltSpecFieldIsRefusedWithTheNearestKnownName()
    {
        using var folder = new TempDirectory();
        string path = folder.File("sweep.json");
        File.WriteAllText(path, """{ "latentSizes": [2], "betas": [1], "seeds": [0], "epoch": 1 }""");
        var error = Assert.Throws<FormatException>(() => SweepSpec.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("unknown field 'epoch' (did you mean 'epochs'?)", error.Message);
        File.WriteAllText(path, """{ "LatentSizes": [2], "betas": [1], "seeds": [0], "trainExampels": 10 }""");
        Assert.Contains("did you mean 'trainExamples'?", Assert.Throws<FormatException>(() => SweepSpec.Load(path)).Message);
        File.WriteAllText(path, """{ "LatentSizes": [2], "betas": [1], "seeds": [0], "EPOCHS": 1 }""");
        Assert.Equal(1, SweepSpec.Load(path).Epochs);   // names match ignoring case, as before
    }

    [Fact]
    public void AnEmptySplitOrAShapeTheModelsDoNotTakeIsRefusedBeforeAnythingIsWritten()
    {
        using var folder = new TempDirectory();
        string data = folder.File("data");
        Directory.CreateDirectory(data);
        VaeLab.Data.IdxWriter.Write(Path.Combine(data, "train-images-idx3-ubyte"), [0, 28, 28], []);
        VaeLab.Data.IdxWriter.Write(Path.Combine(data, "train-labels-idx1-ubyte"), [0], []);
        VaeLab.Data.IdxWriter.Write(Path.Combine(data, "t10k-images-idx3-ubyte"), [2, 28, 28], new byte[2 * 784]);
        VaeLab.Data.IdxWriter.Write(Path.Combine(data, "t10k-labels-idx1-ubyte"), [2], new byte[2]);
        var store = new ResultStore(folder.File("store"));
        var error = Assert.Throws<VaeLab.Data.IdxFormatException>(() => SweepRunner.Run(Tiny with { DataDirectory = data, TrainExamples = null, TestExamples = null }, store));
        Assert.Contains(Path.Combine(data, "train-images-idx3-ubyte"), error.Message);
        Assert.Contains("holds no images", error.Message);
        Assert.False(Directory.Exists(store.Folder));

        // A header that lies about the shape but keeps the byte count: the error names the file, not "Fashion-MNIST".
        VaeLab.Data.IdxWriter.Write(Path.Combine(data, "train-images-idx3-ubyte"), [2, 56, 14], new byte[2 * 784]);
        VaeLab.Data.IdxWriter.Write(Path.Combine(data, "train-labels-idx1-ubyte"), [2], new byte[2]);
        var shape = Assert.Throws<ArgumentException>(() => SweepRunner.Run(Tiny with { DataDirectory = data, TrainExamples = null, TestExamples = null }, store));
        Assert.Contains(Path.Combine(data, "train-images-idx3-ubyte"), shape.Message);
        Assert.Contains("[1×56×14]", shape.Message);
        Assert.DoesNotContain("Fashion-MNIST", shape.Message);
        Assert.False(Directory.Exists(store.Folder));
    }
}
