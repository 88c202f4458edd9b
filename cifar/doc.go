// Package cifar reads CIFAR-10 and CIFAR-100 in their official binary
// formats, splits and normalizes them as the paper does, and serves
// (optionally augmented) NHWC float32 batches whose position can be saved
// and restored bit-exactly. It never imports GoMLX: the paper's CNNs are in
// package cifar/cnn and their trainer in package cifar/trainer.
//
// # Files
//
// CIFAR-10 (cifar-10-binary.tar.gz, extracting to cifar-10-batches-bin/):
// data_batch_1.bin … data_batch_5.bin (training, 10,000 records each),
// test_batch.bin (10,000) and batches.meta.txt (10 class names). A record is
// 1 label byte then 3,072 pixel bytes: 1,024 red, 1,024 green, 1,024 blue,
// rows top to bottom.
//
// CIFAR-100 (cifar-100-binary.tar.gz, extracting to cifar-100-binary/):
// train.bin (50,000 records), test.bin (10,000), fine_label_names.txt (100
// names), coarse_label_names.txt (20). A record is the coarse label byte, the
// fine label byte, then 3,072 pixel bytes.
//
// Either set is read from its extracted folder or straight from its .tar.gz.
// Every file whose official MD5 is known (KnownMD5) is checked on first use;
// a mismatch is a *ChecksumError naming the file and both sums. Bad input —
// a size that is not a whole number of records, a record count other than
// the official one, a label out of range, a missing file, a corrupt archive —
// is an error naming the file (see the Err… sentinels); nothing is loaded
// partially and nothing panics. Only regular files (or symbolic links to
// them) are read: a folder, named pipe, device or socket in place of a data
// file or archive is refused with an error naming it, and is never opened in
// a way that could block.
//
// # Folders, environment, defaults
//
// Config's zero value is ready to use. Files are looked up, in order, in
//
//  1. the data folder: Config.DataDir, else $HGDTUNE_DATA — first its
//     extracted folder (e.g. $HGDTUNE_DATA/cifar-10-batches-bin), then its
//     archive ($HGDTUNE_DATA/cifar-10-binary.tar.gz). It may be read-only:
//     nothing is ever written there;
//  2. the cache folder: Config.CacheDir, else $HGDTUNE_CACHE, else
//     os.UserCacheDir()/hgdtune — extracted folder, then archive;
//  3. only when Config.Download is set (default false: no network): the
//     archive is downloaded from Config.BaseURL (default DefaultBaseURL,
//     the dataset authors' site) with Config.HTTPClient, a progress bar goes
//     to Config.Progress (nil: silent), its MD5 is checked, and it is renamed
//     into the cache folder only when complete and correct, then extracted
//     there (each file again written aside, then renamed). A download that
//     gets no response within Config.ConnectTimeout (default 30 s) or no
//     data for Config.IdleTimeout (default 60 s) fails.
//
// The Download function fetches an archive explicitly, whatever
// Config.Download says.
//
// Files found nowhere are a *MissingError (wrapping ErrMissing) that names
// them first, then the places searched, then, when a download was tried,
// why it failed (wrapping that error too), then how to provide them. A
// download that could not reach the server (name lookup, connection,
// timeouts, a lost connection: the error wraps ErrUnreachable) means the
// files are simply not available, as with downloading off; a server that
// answers wrongly (an HTTP error, a wrong checksum, a corrupt archive) is a
// failed download that LoadCIFAR10 and LoadCIFAR100 do not pass off as a
// missing test set.
//
// # Verification stamps
//
// Hashing 150 MB costs about 0.1–0.2 s, so once a file (not an archive
// member) has been verified, a stamp recording its absolute path, size,
// modification time (ns) and MD5 is written to <cache>/verified/ (one small
// JSON file per path; never into the data folder). A later load trusts the
// stamp, and does not hash the file, while path, size and modification time
// still match and the MD5 is the official one; its FileStatus then says
// "MD5 verified earlier (stamp)". A change that keeps both size and
// modification time (a byte corrupted in place, the mtime restored) goes
// unnoticed by the stamp: Config.Rehash ignores all stamps, hashes every
// file again and rewrites the stamps (hgdtune data -rehash). Deleting
// <cache>/verified/ has the same effect once.
//
// Config.SkipMD5 turns all checks off for
// user-supplied copies; Config.TestFile with Config.SkipTestMD5 loads a
// stand-in test set (such as a lossy re-encoding of test_batch.bin) and
// marks it in the Dataset's Files and Summary. Config.AnyRecordCount
// accepts small files in the official format (fixtures, subsets).
//
// LoadCIFAR10 and LoadCIFAR100 return the training and test sets; when only
// the test set is not available (not found, and not downloaded or its
// download could not reach the server) they return the training set with an
// error wrapping ErrNoTestSet and the *MissingError. Load reads one Set.
//
// # The paper's protocol
//
// Split divides the training set 70/30 (SplitConfig.TrainFraction, default
// DefaultTrainFraction) class by class: each class contributes
// round(0.7·n) images to training, chosen by a PCG generator seeded with
// SplitConfig.Seed, so the split is stratified, deterministic and depends
// on nothing but the labels, the fraction and the seed. ComputeNormalization
// takes per-channel mean and standard deviation of pixel/255 over the
// training part only; the same Normalization is then used for validation
// and test batches.
//
// A Batcher serves training batches, epoch after epoch, each epoch a new
// permutation; with BatcherConfig.Augment each image is randomly cropped
// from its 4-pixel zero-padded (black, before normalization) version and
// flipped horizontally with probability 1/2, as torchvision's
// RandomCrop(32, padding=4) and RandomHorizontalFlip. All randomness comes
// from one PCG generator (seeded by BatcherConfig.Seed or injected as
// BatcherConfig.RNG), drawn in a fixed order; shuffling uses this package's
// own bounded-integer routine, so sequences do not depend on math/rand/v2's
// helper methods across Go releases. State returns the position (epoch,
// index in the epoch, generator state at the epoch's start and now) as a
// plain struct that encodes to JSON; SetState on a Batcher over the same
// subset and configuration resumes with bit-identical batches. By default
// the last partial batch of an epoch is dropped so that every batch has the
// same shape. Subset.Batch serves the unshuffled, unaugmented evaluation path.
//
// Batches are []float32 in NHWC layout (Batch.Shape() = {B, 32, 32, 3}).
// A Dataset keeps the raw bytes (N×3,072, CHW as in the files, about 150 MB
// for 50,000 images); conversion to floats happens per batch.
package cifar
