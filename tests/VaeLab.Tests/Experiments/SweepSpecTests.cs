using VaeLab.Experiments;

namespace VaeLab.Tests.Experiments;

public class SweepSpecTests
{
    [Fact]
    public void TheGridHasOneRunPerPointWithStableDistinctIds()
    {
        var spec = new SweepSpec([2, 10], [1, 4], [0, 1, 2]);
        var runs = spec.Configurations();
        Assert.Equal(12, runs.Count);
        Assert.Equal(12, runs.Select(r => r.Id).Distinct().Count());
        Assert.Equal(runs.Select(r => r.Id), new SweepSpec([2, 10], [1, 4], [0, 1, 2]).Configurations().Select(r => r.Id));
        Assert.StartsWith("d2-b1-s0-", runs[0].Id);
        // Any other setting changes the id too.
        Assert.NotEqual(runs[0].Id, (spec with { Epochs = 6 }).Configurations()[0].Id);
    }

    [Fact]
    public void ASpecReadsFromJsonAndBadFilesAreNamed()
    {
        using var folder = new TempDirectory();
        string path = folder.File("sweep.json");
        File.WriteAllText(path, """
            // latent size × β
            { "latentSizes": [2, 5], "betas": [1, 4], "seeds": [0], "epochs": 3, "data": "Shapes", }
            """);
        SweepSpec spec = SweepSpec.Load(path);
        Assert.Equal(4, spec.Configurations().Count);
        Assert.Equal(SweepData.Shapes, spec.Data);

        File.WriteAllText(path, """{ "latentSizes": [], "betas": [1], "seeds": [0] }""");
        var error = Assert.Throws<FormatException>(() => SweepSpec.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("latentSizes", error.Message);

        File.WriteAllText(path, "{ not json");
        Assert.Contains(path, Assert.Throws<FormatException>(() => SweepSpec.Load(path)).Message);
        Assert.Throws<FileNotFoundException>(() => SweepSpec.Load(folder.File("absent.json")));
    }

    [Fact]
    public void ShardsAreDisjointAndCoverTheSweep()
    {
        var spec = new SweepSpec([2, 3, 4], [1, 2], [0, 1]);
        var all = spec.Configurations().Select(r => r.Id).ToHashSet();
        var shards = Enumerable.Range(0, 5).Select(i => SweepRunner.Shard(spec, i, 5).Select(r => r.Id).ToArray()).ToArray();
        Assert.Equal(all.Count, shards.Sum(s => s.Length));
        Assert.True(all.SetEquals(shards.SelectMany(s => s)));
        Assert.Throws<ArgumentOutOfRangeException>(() => SweepRunner.Shard(spec, 5, 5));
    }
}

public class SweepSpecAxesTests
{
    [Fact]
    public void LikelihoodAndArchitectureCanBeGridAxesToo()
    {
        var spec = new SweepSpec([2], [1], [0], Likelihoods: [VaeLab.Models.LikelihoodKind.Bernoulli, VaeLab.Models.LikelihoodKind.GaussianShared],
            Architectures: [VaeLab.Models.Architecture.Mlp, VaeLab.Models.Architecture.Conv]);
        var runs = spec.Configurations();
        Assert.Equal(4, runs.Count);
        Assert.Equal(4, runs.Select(r => r.Id).Distinct().Count());
        Assert.Equal(8, (spec with { EpochCounts = [2, 5] }).Configurations().Select(r => r.Id).Distinct().Count());
        Assert.Contains(runs, r => r.Architecture == VaeLab.Models.Architecture.Conv && r.Likelihood == VaeLab.Models.LikelihoodKind.GaussianShared);
        // Without the axes the ids are those of the scalar settings.
        Assert.Equal(new SweepSpec([2], [1], [0]).Configurations()[0].Id, new SweepSpec([2], [1], [0], Likelihoods: [VaeLab.Models.LikelihoodKind.Bernoulli]).Configurations()[0].Id);
    }
}
