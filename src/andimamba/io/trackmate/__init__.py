"""Readers for TrackMate (Fiji) exports: spots table CSV, XML model file, simple tracks XML.

Formats
-------
- **Spots table CSV** ("Export to CSV" of a spots table): a header row of feature keys
  (``LABEL, ID, TRACK_ID, QUALITY, POSITION_X, POSITION_Y, POSITION_Z, POSITION_T, FRAME, ...``).
  TrackMate 7 adds up to three header rows (feature names, short names — each omitted when
  identical to the previous one — and units such as ``(micron)``, ``(sec)``); the ImageJ results
  tables of TrackMate 3-6 have the keys row only, so their unit must be given (``units=``).
  Spots that belong to no track (empty TRACK_ID, or ``None`` in TrackMate 3-6) are counted in
  ``Tracks.n_unlinked_spots`` and not analysed.
- **XML model file** (the Save button): ``<TrackMate><Model spatialunits= timeunits=>``, spots in
  ``<AllSpots nspots=><SpotsInFrame><Spot ID= POSITION_X= POSITION_Y= POSITION_Z= POSITION_T= FRAME=
  VISIBILITY=/>``, tracks in ``<AllTracks><Track TRACK_ID=><Edge SPOT_SOURCE_ID= SPOT_TARGET_ID=/>``,
  the tracks shown in ``<FilteredTracks><TrackID TRACK_ID=/>``, and the image in ``<Settings>
  <ImageData pixelwidth= pixelheight= timeinterval= width= height=/>``. Only the filtered
  (visible) tracks are read; visible spots in none of them are counted in ``n_unlinked_spots``.
- **Simple tracks XML** (action "Export tracks to XML file"): ``<Tracks spaceUnits= frameInterval=
  timeUnits=><particle nSpots=><detection t= x= y= z=/>``; ``t`` is the frame number; tracks are
  named by their order, ``0, 1, ...``. It holds no pixel size.

Calibration
-----------
Positions are converted to pixels following the units policy of :mod:`andimamba.io.readers`. In the
XML model file the unit is the Model's ``spatialunits`` (files older than TrackMate 2.0: the one on
``<ImageData>``); with µm or nm, the pixel size is ``ImageData pixelwidth`` — read wherever
``<ImageData>`` sits (inside ``<Settings>`` after ``<Model>`` as TrackMate writes it, before it
as some converters do, or at the root in pre-2.0 files), so calibration is settled once the whole
file is read. Not calibration, and ignored: a ``pixelwidth`` that is missing, empty, zero or not a
number, and the placeholder ``<ImageData width="0" height="0" pixelwidth="1.0" timeinterval="1.0">``
that TrackMate writes for a session that never had an image (its 1.0 are defaults). TrackMate 2-6
stored the calibration as float32 (``0.1599999964237213``); it is read back as typed (``0.16``).
The frame interval is ``timeinterval`` in ``timeunits``, else the median ``POSITION_T / FRAME`` of
the spots; a time unit ``frame`` leaves it unknown. Values you pass win (a warning when they differ
by more than 1 %). Without a usable pixel size, µm or nm positions stop the reader with an error
asking for it.

Branched tracks
---------------
TrackMate's LAP tracker can split and merge tracks, which puts two spots of one track in one frame;
the model needs one position per frame, so branched tracks are cut into linear pieces:

- XML model file: each edge is taken from its earlier to its later spot. A spot with more than one
  outgoing edge (split) or more than one incoming edge (merge) ends a piece, and every maximal linear
  chain of edges is one piece, named ``"<TRACK_ID>.b<k>"`` (k = 1, 2, ... by first frame, then by
  order in the file); a track without branches keeps its TRACK_ID. Gap splitting then applies to
  each piece as usual (``"<TRACK_ID>.b<k>.<j>"``).
- Spots CSV: it has no links, so a track with several spots in one frame cannot be linked
  unambiguously. The spots of such frames are dropped and the runs of single-spot frames between
  them kept as pieces ``"<TRACK_ID>.b<k>"``. Save the XML model file to keep the branches.
- Simple tracks XML: for a branched track TrackMate writes one detection per time point (its
  ``nSpots`` still counts all of them), so the positions may jump between branches; such particles
  are left out. A particle with a frame twice (files from other programs) is cut as in the CSV.

The number of tracks concerned is ``Tracks.n_branched``, logged as a warning like the gap split.
XML is streamed with ``xml.etree.ElementTree.iterparse``.
"""

from .spots import read_trackmate_spots
from .tracks_xml import read_trackmate_tracks
from .xml_model import read_trackmate_xml

__all__ = ["read_trackmate_spots", "read_trackmate_xml", "read_trackmate_tracks"]
