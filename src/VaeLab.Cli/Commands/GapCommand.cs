using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VaeLab.Data;
using VaeLab.Evaluation.Inference;
using VaeLab.Experiments;
using VaeLab.Models;
using VaeLab.Models.Posteriors;
using VaeLab.Runtime;
using VaeLab.Training;
using static TorchSharp.torch;

namespace VaeLab.Cli.Commands;

/// <summary>
/// <c>vaelab gap</c>: the inference gap of one model decomposed into approximation and amortisation gaps (AIS, importance
/// sampling, per-example q*), for a run of a results store, a checkpoint, or (without either) the reference recipe trained here.
/// </summary>
internal static class GapCommand
{
    public static Command Create()
    {
        var threads = CommonOptions.Threads();
        var seed = new Option<long>("--seed") { Description = "Seed of the reference model (when one is trained) and of every draw.", DefaultValueFactory = _ => 1 };
        var data = CommonOptions.Data();
        var store = new Option<string?>("--store") { Description = "A results folder of `vaelab sweep`; with --run, take that run's model and test data." };
        var run = new Option<string?>("--run") { Description = "The run id in --store (see its results.csv)." };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A checkpoint written by `vaelab train --checkpoint`." };
        var examples = new Option<int>("--examples") { Description = "Test examples to evaluate (the first N).", DefaultValueFactory = _ => 1000 };
        var importance = new Option<int>("--importance-samples") { Description = "k of the importance-sampled log p(x).", DefaultValueFactory = _ => 5000 };
        var distributions = new Option<int>("--distributions") { Description = "AIS intermediate distributions.", DefaultValueFactory = _ => new AisOptions().Distributions };
        var chains = new Option<int>("--chains") { Description = "AIS chains per example.", DefaultValueFactory = _ => new AisOptions().Chains };
        var leapfrog = new Option<int>("--leapfrog") { Description = "Leapfrog steps per HMC transition.", DefaultValueFactory = _ => new AisOptions().LeapfrogSteps };
        var localSteps = new Option<int>("--local-steps") { Description = "Most Adam steps of the per-example fit of q*.", DefaultValueFactory = _ => new LocalPosteriorOptions().MaxSteps };
        var posterior = CommonOptions.Posterior();
        posterior.Description = "Posterior family of the reference model trained when no --store/--run or --checkpoint is given: " + posterior.Description;
        var quick = new Option<bool>("--quick") { Description = "Small settings throughout (seconds, rough figures): IS-500, AIS 100×8×5, q* ≤ 400 steps; replaces --importance-samples, --distributions, --chains, --leapfrog and --local-steps." };
        var command = new Command("gap", "Decompose the inference gap log p(x) − ELBO = approximation gap + amortisation gap (Cremer et al. 2018), with log p(x) by AIS and by importance sampling.")
        {
            threads, seed, data, store, run, checkpoint, posterior, examples, importance, distributions, chains, leapfrog, localSteps, quick,
        };
        command.SetAction(parse =>
        {
            long s = parse.GetValue(seed);
            TorchRuntime.Initialize(s, parse.GetValue(threads));
            NativeHeap.BoundGrowth();   // long evaluations grew glibc's heap by gigabytes (NativeHeap)
            int count = parse.GetValue(examples);
            if (count < 1) throw new ArgumentOutOfRangeException("--examples", count, "--examples must be at least 1.");
            GapOptions options = parse.GetValue(quick)
                ? GapOptions.Quick
                : new GapOptions(parse.GetValue(importance),
                    new AisOptions(parse.GetValue(distributions), parse.GetValue(chains), parse.GetValue(leapfrog)),
                    new LocalPosteriorOptions(MaxSteps: parse.GetValue(localSteps)));
            options.Validate();

            var (model, test, treatment, description) = Model(parse.GetValue(store), parse.GetValue(run), parse.GetValue(checkpoint), parse.GetValue(data), s, parse.GetValue(posterior)!);
            using (test)
            {
                // A stored model brings its own family: a --posterior that names another is a mistake, not a request.
                if (parse.GetResult(posterior) is { Implicit: false } && parse.GetValue(posterior) != model.Posterior.Spec)
                    throw new ArgumentException($"--posterior {parse.GetValue(posterior)}: this model's posterior is {model.Posterior.Spec} ({description}); --posterior chooses the family of the reference model trained when no --checkpoint or --store/--run is given.");
                using Tensor first = arange(Math.Min(count, test.Count));
                using Dataset subset = test.Subset(first);
                Console.WriteLine($"model: {description}");
                Console.WriteLine($"data: {subset.Count:N0} test examples of {test.Name}; figures: {treatment.Meaning}");
                GapTimings estimate = GapCost.Estimate(model, subset.Count, options);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"estimated time: IS-{options.ImportanceSamples} {Duration(estimate.ImportanceSampling)}, AIS {Duration(estimate.Ais)}, local q* at most {Duration(estimate.Local)} (stops when converged)"));
                GapDecomposition gap = Run(model, subset, options, s, treatment);
                Print(gap, model.Posterior.Spec);
            }
            return 0;
        });
        return command;
    }

    static (VariationalAutoencoder Model, Dataset Test, PixelTreatment Treatment, string Description) Model(string? storeFolder, string? runId, string? checkpointPath, string? dataFolder, long seed, PosteriorSpec posterior)
    {
        if (storeFolder is not null || runId is not null)
        {
            if (storeFolder is null || runId is null) throw new ArgumentException("Give both --store and --run (the run's id from results.csv).");
            TrainedModel stored = TrainedModel.Load(storeFolder, runId);
            var c = stored.Run!.Config;
            using DataChoice choice = SweepRunner.LoadData(new SweepSpec([c.LatentDimensions], [c.Beta], [c.Seed], Data: c.Data, TrainExamples: c.TrainExamples, TestExamples: c.TestExamples, DataDirectory: c.DataDirectory));
            Dataset test = choice.Test.Subset(arange(choice.Test.Count));
            return (stored.Model, test, stored.TreatmentOf(test), $"{stored.Source} ({stored.Model.Signature})");
        }
        using DataChoice data = FashionMnist.Load(dataFolder);
        Dataset held = data.Test.Subset(arange(data.Test.Count));
        if (checkpointPath is not null)
        {
            TrainedModel loaded = TrainedModel.Load(checkpointPath);
            return (loaded.Model, held, loaded.TreatmentOf(held), $"{loaded.Source} ({loaded.Model.Signature})");
        }
        // The reference recipe: 784-400-20 Bernoulli, 10 epochs, batch 128, Adam 1e-3.
        Console.WriteLine($"no --store/--run or --checkpoint: training the reference model (784-400-20, {posterior} posterior, 10 epochs, seed {seed}) on {data.Description}");
        var reference = new VaeConfig([1, 28, 28], 20, [400], Posterior: posterior.IsDiagonal ? null : posterior);
        manual_seed(seed);
        VariationalAutoencoder trained = reference.Build();
        using (var trainer = new Trainer(trained, new TrainingOptions(10, 128, 1e-3, Seed: seed)))
        {
            Console.WriteLine($"training step: {trainer.Strategy}");
            trainer.Fit(data.Train);
        }
        return (trained, held, PixelTreatment.Resolve(trained.Likelihood, held), $"reference recipe, seed {seed} ({trained.Signature})");
    }

    static GapDecomposition Run(VariationalAutoencoder model, Dataset data, GapOptions options, long seed, PixelTreatment treatment)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            string last = "";
            return InferenceGap.Decompose(model, data, options, seed, treatment, new SynchronousProgress<InferenceProgress>(p =>
            {
                if (p.Stage != last) { last = p.Stage; Console.WriteLine($"{p.Stage} …"); }
            }));
        }
        GapDecomposition? result = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                result = InferenceGap.Decompose(model, data, options, seed, treatment, new SynchronousProgress<InferenceProgress>(p =>
                {
                    if (!tasks.TryGetValue(p.Stage, out ProgressTask? task))
                    {
                        foreach (ProgressTask earlier in tasks.Values) earlier.Value = earlier.MaxValue;
                        tasks[p.Stage] = task = context.AddTask(Markup.Escape(p.Stage), maxValue: 1);
                    }
                    task.Value = p.Fraction;
                }));
                foreach (ProgressTask task in tasks.Values) task.Value = task.MaxValue;
            });
        return result!;
    }

    static void Print(GapDecomposition gap, PosteriorSpec family)
    {
        var table = Tables.Create("figure", "nats per example", "how");
        table.AddPlainRow($"log p(x), IS-{gap.ImportanceSamples}", gap.LogLikelihoodImportanceSampled.ToString(), $"importance sampling from the encoder's q; {gap.Seconds.ImportanceSampling:F0} s");
        table.AddPlainRow("log p(x), AIS", gap.LogLikelihoodAis.ToString(),
            string.Create(CultureInfo.InvariantCulture, $"{gap.Ais.Distributions} distributions × {gap.Ais.Chains} chains × {gap.Ais.LeapfrogSteps} leapfrog; acceptance {gap.AisAcceptance:F2}; sampling SE {gap.AisMonteCarloStandardError:F3}; {gap.Seconds.Ais:F0} s"));
        table.AddPlainRow("log p̂(x)", gap.LogLikelihood.ToString(), $"the tighter of the two: {gap.LogLikelihoodSource}");
        table.AddPlainRow("L[q*]", gap.ElboLocal.ToString(), string.Create(CultureInfo.InvariantCulture, $"q* fitted per example (Adam, {gap.LocalSteps:F0} steps on average); {gap.Seconds.Local:F0} s with L[q]"));
        table.AddPlainRow("L[q]", gap.ElboEncoder.ToString(), $"the encoder's ELBO ({gap.LocalOptions.EvaluationSamples} samples per example)");
        table.AddPlainRow("approximation gap", gap.ApproximationGap.ToString(), $"log p̂(x) − L[q*]: the limit of the {family} family (q* fitted in it)");
        table.AddPlainRow("amortisation gap", gap.AmortisationGap.ToString(), "L[q*] − L[q]: one shared encoder");
        table.AddPlainRow("inference gap", gap.InferenceGap.ToString(), "log p̂(x) − L[q] = KL(q ‖ p(z|x)) as measured = the sum of the two");
        table.Caption(Markup.Escape($"{gap.Examples:N0} examples; ± standard error over examples; {gap.Treatment?.Meaning}"));
        AnsiConsole.Write(table);
    }

    static string Duration(double seconds) => seconds < 120 ? $"{seconds:F0} s" : seconds < 7200 ? $"{seconds / 60:F0} min" : $"{seconds / 3600:F1} h";
}
