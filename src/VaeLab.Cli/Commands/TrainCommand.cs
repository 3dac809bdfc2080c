using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Runtime;
using VaeLab.Training;
using static TorchSharp.torch;

namespace VaeLab.Cli.Commands;

/// <summary><c>vaelab train</c>: train one VAE, print per-epoch metrics (test ELBO included) and a final evaluation.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var threads = CommonOptions.Threads();
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var data = CommonOptions.Data();
        var latent = new Option<int>("--latent") { Description = "Latent dimensions d.", DefaultValueFactory = _ => 20 };
        var hidden = new Option<int[]>("--hidden") { Description = "Hidden layer widths of the MLP (the decoder mirrors them).", DefaultValueFactory = _ => [400], AllowMultipleArgumentsPerToken = true };
        var encoderHidden = new Option<int[]?>("--encoder-hidden") { Description = "Hidden widths of the MLP encoder when they differ from the decoder's (e.g. --hidden 200 200 --encoder-hidden 500 500: Cremer et al.'s larger encoder).", AllowMultipleArgumentsPerToken = true };
        var architecture = new Option<Architecture>("--architecture") { Description = "Mlp or Conv.", DefaultValueFactory = _ => Architecture.Mlp };
        var likelihood = new Option<LikelihoodKind>("--likelihood") { Description = "Bernoulli, GaussianFixed, GaussianShared, GaussianPerPixel, GaussianDecoderOutput, DiscretizedGaussian or DiscretizedLogistic.", DefaultValueFactory = _ => LikelihoodKind.Bernoulli };
        var posterior = CommonOptions.Posterior();
        var prior = CommonOptions.Prior();
        var sigma = new Option<double>("--sigma") { Description = "σ of a fixed Gaussian decoder (initial σ of a learned one).", DefaultValueFactory = _ => 1.0 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs to train to.", DefaultValueFactory = _ => 10 };
        var batchSize = new Option<int>("--batch-size") { Description = "Examples per step.", DefaultValueFactory = _ => 128 };
        var learningRate = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 1e-3 };
        var beta = new Option<double>("--beta") { Description = "β of the β-ELBO.", DefaultValueFactory = _ => 1.0 };
        var warmup = new Option<long>("--warmup") { Description = "Steps over which β ramps up from 0.", DefaultValueFactory = _ => 0 };
        var objective = new Option<ObjectiveKind>("--objective") { Description = "BetaElbo, Iwae, Capacity, Miwae (MIWAE(M, K): --miwae-m, --iwae-k), Ciwae (CIWAE(β): --ciwae-beta, --iwae-k) or BetaTcvae (--tc-alpha, --beta on the total correlation, --tc-gamma, --tc-estimator).", DefaultValueFactory = _ => ObjectiveKind.BetaElbo };
        var iwaeK = new Option<int>("--iwae-k") { Description = "k of the IWAE objective (K of MIWAE and CIWAE).", DefaultValueFactory = _ => 5 };
        var miwaeM = new Option<int>("--miwae-m") { Description = "M of MIWAE(M, K): independent IWAE_K bounds averaged.", DefaultValueFactory = _ => 1 };
        var tcAlpha = new Option<double>("--tc-alpha") { Description = "α of β-TCVAE: the weight of the index-code mutual information (--beta weighs the total correlation).", DefaultValueFactory = _ => 1 };
        var tcGamma = new Option<double>("--tc-gamma") { Description = "γ of β-TCVAE: the weight of the dimension-wise KL.", DefaultValueFactory = _ => 1 };
        var tcEstimator = new Option<TcEstimator>("--tc-estimator") { Description = "β-TCVAE's estimate of q(z): MinibatchWeighted (Chen et al., as published) or MinibatchStratified.", DefaultValueFactory = _ => TcEstimator.MinibatchWeighted };
        var ciwaeBeta = new Option<double>("--ciwae-beta") { Description = "β of CIWAE = β·ELBO + (1 − β)·IWAE_K, in [0, 1].", DefaultValueFactory = _ => 0.5 };
        var binarization = new Option<Binarization>("--binarization") { Description = "None (grey levels), Static or Dynamic.", DefaultValueFactory = _ => Binarization.None };
        var dequantize = new Option<Dequantization>("--dequantize") { Description = "Uniform dequantisation of 8-bit pixels: Auto (for the Gaussian densities), Uniform, or None (refused for a density: its numbers would mean nothing).", DefaultValueFactory = _ => Dequantization.Auto };
        var clip = new Option<double?>("--clip") { Description = "Clip the gradient norm to this value." };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint file written after every epoch." };
        var resume = new Option<bool>("--resume") { Description = "Continue from --checkpoint if it exists." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Start again, replacing --checkpoint if it exists (without it or --resume, an existing checkpoint is refused)." };
        var parallelism = new Option<TrainingParallelism>("--parallelism") { Description = "How a step uses the cores: Auto (the fastest that applies), OneModel (autograd, the reference), SplitExamples or SplitLayers. Asking for one that cannot apply fails, saying why.", DefaultValueFactory = _ => TrainingParallelism.Auto };
        var importance = new Option<int>("--importance-samples") { Description = "k for the final importance-sampled log p(x) (0 = skip).", DefaultValueFactory = _ => 1000 };
        var command = new Command("train", "Train a VAE on Fashion-MNIST (or --data), printing train and test ELBO per epoch and a final evaluation. Defaults: the pytorch/examples recipe.")
        {
            threads, seed, device, data, latent, hidden, encoderHidden, architecture, likelihood, posterior, prior, sigma, epochs, batchSize, learningRate,
            beta, warmup, objective, iwaeK, miwaeM, ciwaeBeta, tcAlpha, tcGamma, tcEstimator, binarization, dequantize, clip, checkpoint, resume, overwrite, parallelism, importance,
        };
        epochs.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && int.TryParse(token.Value, System.Globalization.CultureInfo.InvariantCulture, out int count) && count < 1)
                result.AddError($"--epochs must be at least 1, got {count}: a model trained for no epoch has no figures worth printing.");
        });
        command.SetAction(parse =>
        {
            string? checkpointPath = parse.GetValue(checkpoint);
            if (parse.GetValue(resume) && parse.GetValue(overwrite)) throw new ArgumentException("--resume and --overwrite contradict each other: give one.");
            if (checkpointPath is not null && File.Exists(checkpointPath) && !parse.GetValue(resume) && !parse.GetValue(overwrite))
                throw new ArgumentException($"--checkpoint '{checkpointPath}' exists: add --resume to continue it, or --overwrite to start again and replace it.");
            if ((parse.GetValue(resume) || parse.GetValue(overwrite)) && checkpointPath is null) throw new ArgumentException("--resume and --overwrite need --checkpoint FILE.");
            TorchRuntime.Initialize(parse.GetValue(seed), parse.GetValue(threads), parse.GetValue(device)!);
            // No NativeHeap.BoundGrowth here: importance sampling runs on threads of their own, which hand their arenas' free
            // memory back once a second (NativeHeap.Trim), without the fixed threshold's page faults (docs/benchmarks.md).
            using DataChoice choice = FashionMnist.Load(parse.GetValue(data));
            Console.WriteLine($"data: {choice.Description}");
            var config = new VaeConfig([1, 28, 28], parse.GetValue(latent), parse.GetValue(hidden), parse.GetValue(architecture), parse.GetValue(likelihood), parse.GetValue(sigma), parse.GetValue(posterior),
                parse.GetValue(encoderHidden), parse.GetValue(prior));
            var options = new TrainingOptions(parse.GetValue(epochs), parse.GetValue(batchSize), parse.GetValue(learningRate),
                GradientClipNorm: parse.GetValue(clip), Seed: parse.GetValue(seed), Binarization: parse.GetValue(binarization),
                Objective: new ObjectiveOptions(parse.GetValue(objective), parse.GetValue(beta), parse.GetValue(warmup), parse.GetValue(iwaeK),
                    MiwaeGroups: parse.GetValue(miwaeM), CiwaeBeta: parse.GetValue(ciwaeBeta), TcAlpha: parse.GetValue(tcAlpha), TcGamma: parse.GetValue(tcGamma),
                    TcDatasetSize: choice.Train.Count, TcEstimator: parse.GetValue(tcEstimator)),
                Dequantization: parse.GetValue(dequantize), Parallelism: parse.GetValue(parallelism));
            manual_seed(parse.GetValue(seed));
            VariationalAutoencoder model = config.Build();
            Console.WriteLine($"model: {model.Signature}; {model.Likelihood.Description}; posterior {model.Posterior.Spec}; prior {model.Prior.Spec}");
            // Decide (or refuse) the data treatment before any training: a density on raw 8-bit pixels is refused here.
            PixelTreatment treatment = PixelTreatment.Resolve(model.Likelihood, choice.Train, options.Binarization, options.Dequantization);
            Console.WriteLine($"figures: {treatment.Meaning}");
            using var trainer = new Trainer(model, options);
            Console.WriteLine($"training step: {trainer.Strategy}");
            if (parse.GetValue(resume) && checkpointPath is not null && File.Exists(checkpointPath))
            {
                trainer.Resume(checkpointPath);
                Console.WriteLine($"resumed from {checkpointPath} after epoch {trainer.EpochsDone}");
            }
            Dataset? validation = choice.Test;
            Fit(trainer, choice.Train, validation, checkpointPath);
            PrintHistory(trainer.History);
            PrintEvaluation(model, choice.Test, parse.GetValue(importance), parse.GetValue(seed),
                PixelTreatment.Resolve(model.Likelihood, choice.Test, options.Binarization, options.Dequantization));
            return 0;
        });
        return command;
    }

    static void Fit(Trainer trainer, Dataset train, Dataset validation, string? checkpointPath)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            // Plain lines when the output is a file or a pipe: one per epoch.
            int lastEpoch = 0;
            trainer.Fit(train, validation, new SynchronousProgress<TrainingProgress>(p =>
            {
                if (p.Batch == p.Batches && p.Epoch != lastEpoch)
                {
                    lastEpoch = p.Epoch;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"epoch {p.Epoch}/{p.Epochs}: train loss {p.RunningLossNats:F2} nats, {p.ExamplesPerSecond:F0} examples/s, ETA {p.Eta:hh\\:mm\\:ss}"));
                }
            }), checkpointPath: checkpointPath);
            return;
        }
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask("training", maxValue: 1);
                trainer.Fit(train, validation, new SynchronousProgress<TrainingProgress>(p =>
                {
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch}/{p.Epochs}, loss {p.RunningLossNats:F1} nats, {p.ExamplesPerSecond:F0}/s");
                    double done = (p.Epoch - 1 + p.Batch / (double)p.Batches) / p.Epochs;
                    task.Value = Math.Min(done, 1);
                }), checkpointPath: checkpointPath);
                task.Value = 1;
            });
    }

    static void PrintHistory(IReadOnlyList<EpochMetrics> history)
    {
        var table = Tables.Create("epoch", "train −ELBO", "test −ELBO", "test E_q[log p(x|z)]", "test KL", "s", "examples/s");
        string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
        foreach (EpochMetrics m in history)
            table.AddPlainRow(m.Epoch.ToString(CultureInfo.InvariantCulture), F(-m.TrainElboNats), F(-m.ValidationElboNats),
                F(m.ValidationReconstructionLogLikelihoodNats), F(m.ValidationKlNats), F(m.Seconds), m.ExamplesPerSecond.ToString("F0", CultureInfo.InvariantCulture));
        table.Caption("nats per example; test figures with one z sample per example at the end of each epoch");
        AnsiConsole.Write(table);
    }

    static void PrintEvaluation(VariationalAutoencoder model, Dataset test, int k, long seed, PixelTreatment treatment)
    {
        ElboSummary elbo = Evaluator.TestElbo(model, test, seed, treatment: treatment);
        var (active, _) = ActiveUnits.Count(model, test);
        var table = Tables.Create("test-set figure", "value");
        string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
        table.AddPlainRow("ELBO (nats)", $"{F(elbo.ElboNats)} ± {F(elbo.ElboStandardError)}");
        table.AddPlainRow("E_q[log p(x|z)] (nats)", F(elbo.ReconstructionLogLikelihoodNats));
        table.AddPlainRow("KL(q‖p) = rate (nats)", F(elbo.KlNats));
        table.AddPlainRow("−ELBO (bits/dim)", elbo.NegativeElboBitsPerDimension.ToString("F4", CultureInfo.InvariantCulture));
        table.AddPlainRow("active units (Cov > 0.01)", $"{active} of {model.LatentDimensions}");
        if (k > 0)
        {
            LogLikelihoodEstimate logLikelihood = Evaluator.ImportanceSampledLogLikelihood(model, test, k, seed, treatment: treatment);
            table.AddPlainRow($"log p(x), k = {k} (nats)", $"{F(logLikelihood.LogLikelihoodNats)} ± {logLikelihood.MonteCarloStandardError.ToString("F3", CultureInfo.InvariantCulture)} (sampling) ± {F(logLikelihood.DataStandardError)} (data)");
            table.AddPlainRow($"−log p(x), k = {k} (bits/dim)", logLikelihood.NegativeLogLikelihoodBitsPerDimension.ToString("F4", CultureInfo.InvariantCulture));
        }
        table.Caption(treatment.Meaning);
        AnsiConsole.Write(table);
    }
}
