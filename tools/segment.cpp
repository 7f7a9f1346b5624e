// kiln segment: each pixel's class in an image or a folder of images, from a segmentation checkpoint, written as a
// mask in the classes' colours and as that mask blended over the image.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "kiln/autograd.h"
#include "kiln/data/mask_image.h"
#include "kiln/models/registry.h"
#include "kiln/threads.h"
#include "kiln/train/checkpoint.h"
#include "tools/commands.h"
#include "tools/device_flags.h"
#include "tools/image_inputs.h"
#include "tools/input_format.h"
#include "tools/progress.h"

namespace kiln::tools {

namespace {

namespace fs = std::filesystem;

// One input image and the two files it becomes.
struct Job {
  std::string image;
  fs::path mask, overlay;
};

// OUT/<path>.png and OUT/<path>.overlay.png for each image, <path> being its path under --input without the
// extension (its name for a single file). Two images that would write the same file (a.jpg and a.png) are an error.
std::vector<Job> plan_jobs(const std::vector<std::string>& images, const std::string& input, const fs::path& out) {
  const bool folder = fs::is_directory(input);
  std::vector<Job> jobs;
  std::map<fs::path, std::string> writers;  // output file -> the image that writes it
  for (const std::string& image : images) {
    const fs::path relative = folder ? fs::path(image).lexically_relative(input) : fs::path(image).filename();
    const fs::path stem = out / fs::path(relative).replace_extension();
    Job job{image, stem.string() + ".png", stem.string() + ".overlay.png"};
    for (const fs::path& file : {job.mask, job.overlay}) {
      const auto [writer, inserted] = writers.emplace(file, image);
      KILN_CHECK(inserted, "--input ", input, ": ", writer->second, " and ", image, " would both write ",
                 file.string(), "; rename one of them");
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

// Runs the model on batches of images of one size and writes each image's mask and overlay.
class Segmenter {
 public:
  Segmenter(std::shared_ptr<nn::Module> model, InputFormat format, data::ClassList classes, Device device,
            float alpha)
      : model_(std::move(model)), format_(std::move(format)), classes_(std::move(classes)), device_(device),
        alpha_(alpha) {}

  // Writes the images of `jobs` whose decoded pixels are `images`, all of one size.
  void run(const std::vector<const Job*>& jobs, const std::vector<data::Image>& images) const {
    const std::int64_t height = images.front().height, width = images.front().width;
    std::vector<float> planes;
    planes.reserve(images.size() * images.front().pixels.size());
    for (const data::Image& image : images) planes.insert(planes.end(), image.pixels.begin(), image.pixels.end());
    Tensor batch = Tensor::from_vector(planes, {static_cast<std::int64_t>(images.size()), 3, height, width});
    data::normalize(batch, format_.transform.normalization);
    const NoGradGuard no_grad;
    const Tensor scores = model_->forward(to_model_channels(batch, format_).to(device_));
    KILN_CHECK(scores.dim() == 4 && scores.size(0) == batch.size(0) &&
                   scores.size(1) == static_cast<std::int64_t>(classes_.size()) && scores.size(2) == height &&
                   scores.size(3) == width,
               "the model gives ", describe(scores), " for ", describe(batch), " images and ", classes_.size(),
               " classes (expected one score per class and pixel)");
    const std::vector<data::Mask> masks = data::predicted_masks(scores);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const data::ImageBytes colors = data::colorize_mask(masks[i], classes_);
      fs::create_directories(jobs[i]->mask.parent_path());
      data::write_png(jobs[i]->mask.string(), colors, "mask of " + jobs[i]->image);
      data::write_png(jobs[i]->overlay.string(), data::overlay_mask(images[i], colors, alpha_),
                      "overlay of " + jobs[i]->image);
    }
  }

 private:
  std::shared_ptr<nn::Module> model_;
  InputFormat format_;
  data::ClassList classes_;
  Device device_;
  float alpha_;
};

int run_segment(const cli::Arguments& arguments) {
  const std::string checkpoint = arguments.text("--checkpoint");
  const std::string input = arguments.text("--input");
  const fs::path out = arguments.text("--out");
  const auto batch_size = static_cast<std::size_t>(arguments.integer("--batch", 1, 1 << 20));
  const auto alpha = static_cast<float>(arguments.number("--alpha", 0, 1));
  const long long threads = arguments.integer("--threads", 0, 4096);
  const Device device = device_from_flags(arguments);
  if (threads > 0) set_num_threads(static_cast<int>(threads));
  KILN_CHECK(!fs::exists(out) || fs::is_directory(out), "--out ", out.string(), ": a file, not a folder");

  const train::LoadedModel loaded = train::load_model(checkpoint);
  const models::Task task = models::model_family(loaded.info.model).task;
  KILN_CHECK(task == models::Task::segmentation, "checkpoint '", checkpoint, "' holds ", loaded.info.model, ", a ",
             models::task_name(task), " model: kiln segment needs a segmentation model (use kiln predict to classify "
             "images)");
  InputFormat format;
  try {
    format = input_format(loaded.info);
  } catch (const Error& error) {
    fail("checkpoint '", checkpoint, "': ", error.what());
  }
  loaded.model->to(device);
  loaded.model->eval();
  const Segmenter segmenter(loaded.model, format, data::class_list(loaded.info.classes, loaded.info.class_colors), device, alpha);

  std::vector<data::SkippedFile> skipped;
  const std::vector<Job> jobs = plan_jobs(list_inputs(input, skipped), input, out);
  const auto report_skipped = [](const data::SkippedFile& file) {
    std::cerr << "kiln segment: skipped " << file.path << ": " << file.reason << "\n";
  };
  std::for_each(skipped.begin(), skipped.end(), report_skipped);

  // Consecutive images of one size share a forward pass; each runs at its own size (the models are convolutional).
  std::vector<const Job*> batch_jobs;
  std::vector<data::Image> batch_images;
  std::size_t written = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  ProgressLine progress;
  const auto run_batch = [&] {
    segmenter.run(batch_jobs, batch_images);
    written += batch_jobs.size();
    batch_jobs.clear();
    batch_images.clear();
  };
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    data::Image image;
    try {
      image = data::decode_image(jobs[i].image);
    } catch (const Error& error) {
      skipped.push_back({jobs[i].image, error.what()});
      report_skipped(skipped.back());
      continue;
    }
    const bool same_size = batch_images.empty() || (image.height == batch_images.front().height &&
                                                     image.width == batch_images.front().width);
    if (!same_size || batch_images.size() == batch_size) run_batch();
    batch_jobs.push_back(&jobs[i]);
    batch_images.push_back(std::move(image));
    if (progress.due()) {
      const double rate = static_cast<double>(written) / seconds();
      char line[160];
      std::snprintf(line, sizeof line, "image %zu/%zu  %.1f img/s  ETA %s", i + 1, jobs.size(), rate,
                    rate > 0 ? duration_text(static_cast<double>(jobs.size() - i - 1) / rate).c_str() : "?");
      progress.show(line);
    }
  }
  if (!batch_images.empty()) run_batch();
  progress.finish_line();
  KILN_CHECK(written > 0, "--input ", input, ": no image could be read (", skipped.size(), " skipped)");
  char summary[200];
  std::snprintf(summary, sizeof summary, "kiln segment: %zu image(s) written to %s (mask and overlay each), %zu "
                "skipped, %.1f images/s", written, out.string().c_str(), skipped.size(),
                static_cast<double>(written) / seconds());
  std::cout << summary << "\n";
  return 0;
}

}  // namespace

cli::Command segment_command() {
  std::vector<cli::Option> options = {
      {"--checkpoint", {}, "FILE", "a segmentation model's checkpoint written by kiln train", ""},
      {"--input", {}, "FILE|DIR", "an image, or a folder of images (searched recursively; any sizes)", ""},
      {"--out",
       {},
       "DIR",
       "where to write <name>.png (colour mask) and <name>.overlay.png, as laid out in --input",
       ""},
      {"--batch", {}, "N", "images per forward pass (consecutive images of one size)", "8"},
      {"--alpha", {}, "A", "weight of the mask's colours in the overlay, 0 to 1", "0.5"},
      {"--threads", {}, "N", "CPU threads; 0 = KILN_NUM_THREADS or all cores", "0"},
  };
  for (cli::Option& flag : device_flags("where to run the model")) options.push_back(std::move(flag));
  return cli::Command("segment", "label each pixel of images with a segmentation checkpoint: colour masks, overlays",
                      std::move(options), run_segment);
}

}  // namespace kiln::tools
